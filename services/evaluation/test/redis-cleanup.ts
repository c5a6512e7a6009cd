import { Redis } from 'ioredis';
import { backendUrls } from '@quizmesh/platform/testing';

/** Deletes every key under a test's unique prefix (SCAN, never KEYS). */
export async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis(backendUrls.redis);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
