/** The JWKS cache: TTL, refetch on unknown kid (rate-limited, single-flight), stale keys on failure. */
import pino from 'pino';
import { JwksCache } from '../src/auth/jwks';
import { ecKey, jwks, type TestKey } from './support/keys';

const logger = pino({ level: 'silent' });

/** A JWKS source we control, counting fetches, with a clock we move by hand. */
function source(initial: TestKey[]) {
  const state = { keys: initial, fetches: 0, failing: false, now: 1_000_000 };
  const cache = new JwksCache({
    fetchJwks: async () => {
      state.fetches += 1;
      if (state.failing) throw new Error('identity unavailable');
      return jwks(...state.keys);
    },
    ttlMs: 60_000,
    refetchIntervalMs: 10_000,
    logger,
    now: () => state.now,
  });
  return { state, cache };
}

describe('JwksCache', () => {
  const first = ecKey('k1');
  const second = ecKey('k2');

  it('fetches once and serves from the cache within the TTL', async () => {
    const { state, cache } = source([first]);
    expect((await cache.getKey('k1'))?.kid).toBe('k1');
    state.now += 59_000;
    expect((await cache.getKey('k1'))?.kid).toBe('k1');
    expect(state.fetches).toBe(1);
  });

  it('fetches again after the TTL', async () => {
    const { state, cache } = source([first]);
    await cache.getKey('k1');
    state.keys = [second];
    state.now += 60_000;
    expect(await cache.getKey('k1')).toBeUndefined();
    expect((await cache.getKey('k2'))?.kid).toBe('k2');
    expect(state.fetches).toBe(2);
  });

  it('refetches early for an unknown kid (key rotation), at most once per interval', async () => {
    const { state, cache } = source([first]);
    await cache.getKey('k1');
    state.keys = [first, second];
    // Identity rotated: the new kid is found by an early refetch.
    state.now += 10_000;
    expect((await cache.getKey('k2'))?.kid).toBe('k2');
    expect(state.fetches).toBe(2);
    // Made-up kids do not cause a fetch each: one per interval.
    for (let i = 0; i < 20; i += 1) expect(await cache.getKey(`bogus-${i}`)).toBeUndefined();
    expect(state.fetches).toBe(2);
    state.now += 10_000;
    await cache.getKey('bogus-again');
    expect(state.fetches).toBe(3);
  });

  it('shares one fetch among concurrent callers', async () => {
    const { state, cache } = source([first]);
    const keys = await Promise.all(Array.from({ length: 10 }, () => cache.getKey('k1')));
    expect(keys.every((k) => k?.kid === 'k1')).toBe(true);
    expect(state.fetches).toBe(1);
  });

  it('keeps the previous keys when a refresh fails', async () => {
    const { state, cache } = source([first]);
    await cache.getKey('k1');
    state.failing = true;
    state.now += 120_000;
    expect((await cache.getKey('k1'))?.kid).toBe('k1');
    expect(state.fetches).toBe(2);
  });

  it('fails with 503 while no keys were ever loaded, and recovers', async () => {
    const { state, cache } = source([first]);
    state.failing = true;
    await expect(cache.getKey('k1')).rejects.toMatchObject({ status: 503 });
    state.failing = false;
    expect((await cache.getKey('k1'))?.kid).toBe('k1');
  });

  it('ignores entries that are not public signing keys', async () => {
    const good = ecKey('good');
    const privateJwk = { ...good.privateKey.export({ format: 'jwk' }), kid: 'private', alg: 'ES256' };
    const cache = new JwksCache({
      fetchJwks: async () => ({
        keys: [
          good.jwk,
          privateJwk,
          { ...ecKey('enc').jwk, use: 'enc' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'symmetric', alg: 'HS256' },
          { kty: 'EC', crv: 'P-256', x: 'broken', y: 'broken', kid: 'broken' },
        ],
      }),
      ttlMs: 60_000,
      refetchIntervalMs: 60_000,
      logger,
    });
    expect((await cache.getKey('good'))?.kid).toBe('good');
    for (const kid of ['private', 'enc', 'symmetric', 'broken']) expect(await cache.getKey(kid)).toBeUndefined();
  });

  it('treats a document that is not a JWKS as a failed fetch', async () => {
    const cache = new JwksCache({
      fetchJwks: async () => ({ nope: true }),
      ttlMs: 60_000,
      refetchIntervalMs: 60_000,
      logger,
    });
    await expect(cache.getKey('k1')).rejects.toMatchObject({ status: 503 });
  });
});
