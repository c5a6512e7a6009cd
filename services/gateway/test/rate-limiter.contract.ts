/**
 * The contract every RateLimiterStore implementation passes (run against memory and against
 * real Redis by rate-limiter.test.ts). Windows are 1 s where a test must see one end.
 */
import { randomUUID } from 'node:crypto';
import type { RateLimiterStore } from '../src/rate-limit/limiter';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function rateLimiterContract(
  name: string,
  makeStore: () => RateLimiterStore,
  cleanup: () => Promise<void> = async () => undefined,
) {
  describe(`rate limiter contract: ${name}`, () => {
    let store: RateLimiterStore;
    beforeAll(async () => {
      store = makeStore();
      // Redis: count in Redis itself, not in the insurance limiter used while connecting.
      await store.connected();
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });
    const key = () => `client-${randomUUID()}`;

    it('allows `points` requests per window, counting down, then denies with the time to wait', async () => {
      const limiter = store.create({ name: 'countdown', points: 3, durationS: 60 });
      const k = key();
      const decisions = [];
      for (let i = 0; i < 4; i += 1) decisions.push(await limiter.consume(k));
      expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      const denied = decisions[3];
      expect(denied?.limit).toBe(3);
      expect(denied?.resetMs).toBeGreaterThan(0);
      expect(denied?.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('counts each key on its own', async () => {
      const limiter = store.create({ name: 'per-key', points: 1, durationS: 60 });
      const [a, b] = [key(), key()];
      expect((await limiter.consume(a)).allowed).toBe(true);
      expect((await limiter.consume(a)).allowed).toBe(false);
      expect((await limiter.consume(b)).allowed).toBe(true);
    });

    it('keeps limiters with different names apart, even for the same key', async () => {
      const login = store.create({ name: 'login-like', points: 1, durationS: 60 });
      const register = store.create({ name: 'register-like', points: 1, durationS: 60 });
      const k = key();
      expect((await login.consume(k)).allowed).toBe(true);
      expect((await register.consume(k)).allowed).toBe(true);
      expect((await login.consume(k)).allowed).toBe(false);
    });

    it('forgets a key on reset', async () => {
      const limiter = store.create({ name: 'reset', points: 1, durationS: 60 });
      const k = key();
      await limiter.consume(k);
      expect((await limiter.consume(k)).allowed).toBe(false);
      await limiter.reset(k);
      expect((await limiter.consume(k)).allowed).toBe(true);
    });

    it('allows again once the window has passed', async () => {
      const limiter = store.create({ name: 'window', points: 1, durationS: 1 });
      const k = key();
      await limiter.consume(k);
      const denied = await limiter.consume(k);
      expect(denied.allowed).toBe(false);
      await sleep(denied.resetMs + 50);
      expect((await limiter.consume(k)).allowed).toBe(true);
    });

    it('admits exactly `points` of many concurrent requests', async () => {
      const limiter = store.create({ name: 'concurrent', points: 5, durationS: 60 });
      const k = key();
      const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.consume(k)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    });

    it('reports its configuration', () => {
      const limiter = store.create({ name: 'config', points: 7, durationS: 30 });
      expect([limiter.points, limiter.durationS]).toEqual([7, 30]);
    });
  });
}
