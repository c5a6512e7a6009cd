import { WorkQueue } from '../src/queue';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const queue = new WorkQueue();
    queue.add('a/x');
    queue.add('a/x');
    queue.add('a/y');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a/x');
    expect(await queue.get()).toBe('a/y');
    queue.shutdown();
  });

  it('never hands out a key being processed; a change meanwhile queues it once more afterwards', async () => {
    const queue = new WorkQueue();
    queue.add('a/x');
    const key = await queue.get();
    queue.add('a/x');
    queue.add('a/x');
    expect(queue.length).toBe(0);
    queue.done(key ?? '');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('a/x');
    queue.shutdown();
  });

  it('backs off exponentially per key, capped, and starts over after forget()', () => {
    const queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1_000 });
    const delays = [1, 2, 3, 4, 5, 6].map(() => {
      const delay = queue.addRateLimited('a/x');
      queue.add('a/x'); // clears the pending timer so the next call schedules again
      return delay;
    });
    // ±20% jitter around 100, 200, 400, 800, 1000, 1000
    delays.forEach((d, i) => {
      const nominal = Math.min(1_000, 100 * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(nominal * 0.8);
      expect(d).toBeLessThanOrEqual(nominal * 1.2);
    });
    queue.forget('a/x');
    expect(queue.retries('a/x')).toBe(0);
    queue.shutdown();
  });

  it('delivers a delayed key after its delay, and shutdown releases waiting workers', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a/x', 30);
    const got = queue.get();
    await tick(60);
    expect(await got).toBe('a/x');
    const waiting = queue.get();
    queue.shutdown();
    expect(await waiting).toBeUndefined();
  });
});
