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

  it('with leases: never admit more than the limit across replicas, and ask Redis once per lease', async () => {
    const replicaA = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    const replicaB = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    const redis = new Redis(backendUrls.redis);
    try {
      await Promise.all([replicaA.connected(), replicaB.connected()]);
      const a = replicaA.create({ name: 'leased', points: 10, durationS: 60, leaseSize: 4 });
      const b = replicaB.create({ name: 'leased', points: 10, durationS: 60, leaseSize: 4 });
      const allowed = [];
      for (let i = 0; i < 15; i += 1) {
        for (const limiter of [a, b]) allowed.push((await limiter.consume('198.51.100.7')).allowed);
      }
      expect(allowed.filter(Boolean)).toHaveLength(10);
      // Leases of 4, 4, 4 (2 of them granted), 4 (none): four round trips for 30 requests.
      expect(await redis.get(`${prefix}:leased:198.51.100.7`)).toBe('16');
    } finally {
      await replicaA.close();
      await replicaB.close();
      await redis.quit();
    }
  });

  it('with leases: points one replica leased and left unused are refused on another (the documented bound)', async () => {
    const replicaA = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    const replicaB = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    try {
      await Promise.all([replicaA.connected(), replicaB.connected()]);
      const a = replicaA.create({ name: 'leased-idle', points: 10, durationS: 60, leaseSize: 4 });
      const b = replicaB.create({ name: 'leased-idle', points: 10, durationS: 60, leaseSize: 4 });
      expect((await a.consume('k')).allowed).toBe(true);
      const onB = [];
      for (let i = 0; i < 10; i += 1) onB.push((await b.consume('k')).allowed);
      // 10 − (leaseSize − 1) = 7 in all: A holds 3 points it does not use.
      expect(onB.filter(Boolean)).toHaveLength(6);
    } finally {
      await replicaA.close();
      await replicaB.close();
    }
  });

  it('with leases: concurrent requests share one lease request and admit exactly the limit', async () => {
    const store = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    const redis = new Redis(backendUrls.redis);
    try {
      await store.connected();
      const limiter = store.create({ name: 'leased-concurrent', points: 5, durationS: 60, leaseSize: 4 });
      const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.consume('k')));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
      expect(await redis.get(`${prefix}:leased-concurrent:k`)).toBe('8');
      const denied = decisions.find((d) => !d.allowed);
      expect(denied?.resetMs).toBeGreaterThan(0);
      expect(denied?.resetMs).toBeLessThanOrEqual(60_000);
    } finally {
      await store.close();
      await redis.quit();
    }
  });

  it('with leases: a new window gives new points', async () => {
    const store = redisRateLimiterStore({ url: backendUrls.redis, keyPrefix: prefix, logger: silent });
    try {
      await store.connected();
      const limiter = store.create({ name: 'leased-window', points: 2, durationS: 1, leaseSize: 2 });
      await limiter.consume('k');
      await limiter.consume('k');
      const denied = await limiter.consume('k');
      expect(denied.allowed).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, denied.resetMs + 50));
      expect((await limiter.consume('k')).allowed).toBe(true);
    } finally {
      await store.close();
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
