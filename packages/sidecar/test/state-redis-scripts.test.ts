/**
 * state.redis sends its Lua scripts by SHA1 (EVALSHA) and in full only when Redis answers
 * NOSCRIPT (first use, a restart, SCRIPT FLUSH). The shared test Redis already knows them, and
 * flushing its script cache would disturb other runs, so NOSCRIPT is simulated once per call.
 */
import { ReplyError, type Redis } from 'ioredis';
import { backendUrls, uniqueName } from '@quizmesh/platform/testing';
import { RedisStateStore } from '../src/state/redis';

const redisUrl = new URL(backendUrls.redis);

describe('state.redis scripts', () => {
  let store: RedisStateStore;
  let client: Redis;
  const prefix = uniqueName('scripts');

  beforeAll(async () => {
    store = await RedisStateStore.connect({
      host: redisUrl.hostname,
      port: Number(redisUrl.port || 6379),
      username: undefined,
      password: undefined,
      db: 0,
      tls: false,
      maxRetries: 3,
      defaultTtlSeconds: undefined,
      connectTimeoutMs: 5_000,
    });
    client = (store as unknown as { redis: Redis }).redis;
  });

  afterAll(async () => {
    await client.del(`${prefix}||a`);
    await store.close();
  });

  test('a write and a read still work when Redis does not know the script (NOSCRIPT)', async () => {
    const evalsha = jest.spyOn(client, 'evalsha');
    const evalFull = jest.spyOn(client, 'eval');
    try {
      evalsha.mockRejectedValueOnce(new ReplyError('NOSCRIPT No matching script. Please use EVAL.'));
      await store.set({ key: `${prefix}||a`, value: '{"n":1}', etag: undefined, firstWrite: false, ttlSeconds: 60 });
      expect(evalFull).toHaveBeenCalledTimes(1);

      evalsha.mockRejectedValueOnce(new ReplyError('NOSCRIPT No matching script. Please use EVAL.'));
      const item = await store.get(`${prefix}||a`);
      expect(evalFull).toHaveBeenCalledTimes(2);
      expect(item).toMatchObject({ value: '{"n":1}', etag: '1' });
      expect(item?.expiresAt).toBeGreaterThan(Date.now());

      // Known scripts go by SHA1 only.
      expect(await store.get(`${prefix}||a`)).toMatchObject({ value: '{"n":1}', etag: '1' });
      expect(await store.get(`${prefix}||missing`)).toBeUndefined();
      expect(evalFull).toHaveBeenCalledTimes(2);
    } finally {
      evalsha.mockRestore();
      evalFull.mockRestore();
    }
  });
});
