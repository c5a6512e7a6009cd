/** Both rate-limit stores pass one contract; Redis is shared across replicas and survives an outage. */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { backendUrls, redisKeyPrefix } from '@quizmesh/platform/testing';
import { memoryRateLimiterStore, redisRateLimiterStore } from '../src/rate-limit/limiter';
import { rateLimiterContract } from './rate-limiter.contract';

const silent = pino({ level: 'silent' });

async function deleteKeys(prefix: string) {
  const redis = new Redis(backendUrls.redis);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

rateLimiterContract('memory', () => memoryRateLimiterStore('test'));

const contractPrefix = redisKeyPrefix('qm_gw_rl');
rateLimiterContract(
  'redis',
  () => redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: contractPrefix, logger: silent }),
  () => deleteKeys(contractPrefix),
);

describe('redis rate limits', () => {
  const prefix = redisKeyPrefix('qm_gw_rl_shared');
  afterAll(() => deleteKeys(prefix));

  it('are shared by gateway replicas', async () => {
    const replicaA = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    const replicaB = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    try {
      await Promise.all([replicaA.connected(), replicaB.connected()]);
      const a = replicaA.create({ name: 'ip', points: 4, durationS: 60 });
      const b = replicaB.create({ name: 'ip', points: 4, durationS: 60 });
      const results = [];
      for (const limiter of [a, b, a, b, a, b]) results.push((await limiter.consume('203.0.113.9')).allowed);
      expect(results).toEqual([true, true, true, true, false, false]);
      const redis = new Redis(backendUrls.redis);
      try {
        expect(await redis.get(`${prefix}:ip:203.0.113.9`)).toBe('6');
      } finally {
        await redis.quit();
      }
    } finally {
      await replicaA.close();
      await replicaB.close();
    }
  });

  it('fall back to this replica’s memory when Redis is unreachable, and say so once', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    );
    // Port 1: nothing listens there, connections are refused at once.
    const store = redisRateLimiterStore({ url: 'redis://127.0.0.1:1', keyPrefix: prefix, logger });
    try {
      const limiter = store.create({ name: 'insured', points: 2, durationS: 60 });
      const results = [];
      for (let i = 0; i < 3; i += 1) results.push((await limiter.consume('k')).allowed);
      expect(results).toEqual([true, true, false]);
      // Let ioredis report its failed connection attempts.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const warnings = lines.filter((l) => l.includes('redis unavailable'));
      expect(warnings).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
