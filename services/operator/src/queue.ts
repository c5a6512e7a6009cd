/**
 * A rate-limited work queue keyed by "<namespace>/<name>", as controller-runtime's: a key is queued
 * at most once however often it changes (level-based: the reconciler reads the latest state), is
 * never processed by two workers at once (a change while it runs queues it again afterwards), and
 * failures come back after a per-key exponential back-off, so a broken dependency is never a hot loop.
 */
export interface WorkQueueOptions {
  /** first retry delay */
  baseDelayMs?: number;
  /** cap of the exponential back-off */
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly queued: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private shutDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  /** Queues `key` now (a pending delayed retry of it is superseded). */
  add(key: string): void {
    if (this.shutDown) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else this.queued.push(key);
  }

  /** Queues `key` after `delayMs` (unless it is queued sooner). */
  addAfter(key: string, delayMs: number): void {
    if (this.shutDown || this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Queues `key` after its next back-off delay; returns the delay. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** failures);
    // Jitter (±20%) so many failing keys do not retry in lock-step.
    const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
    this.addAfter(key, jittered);
    return jittered;
  }

  /** The key succeeded: its back-off starts over. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once shut down. Call done(key) after processing it. */
  async get(): Promise<string | undefined> {
    if (this.shutDown) return undefined;
    const key = this.queued.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return key;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  get length(): number {
    return this.queued.length;
  }

  shutdown(): void {
    this.shutDown = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queued.length = 0;
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters = [];
  }
}
