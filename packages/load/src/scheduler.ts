/**
 * Open-loop pacing (decision 0930): sessions arrive at a fixed rate whatever the platform's
 * answers, as real players do, so a slow platform shows up as longer latencies and missed
 * arrivals instead of quietly lowering the load (the coordinated omission of a closed loop).
 * Arrival k is due at k / rate seconds; a late timer delivers every arrival that fell due.
 */
export class ArrivalSchedule {
  private taken = 0;
  /** arrivals whose time is before the end of the run */
  readonly total: number;

  constructor(
    private readonly perSecond: number,
    durationMs: number,
  ) {
    this.total = Math.ceil((durationMs * perSecond) / 1000);
  }

  /** How many arrivals fell due by `elapsedMs` and were not yet taken. */
  take(elapsedMs: number): number {
    const dueByNow = Math.min(this.total, Math.floor((elapsedMs * this.perSecond) / 1000) + 1);
    const due = Math.max(0, dueByNow - this.taken);
    this.taken += due;
    return due;
  }

  get done(): boolean {
    return this.taken >= this.total;
  }

  /** When the next arrival is due (ms since the start); undefined when none is left. */
  nextAtMs(): number | undefined {
    return this.done ? undefined : Math.ceil((this.taken * 1000) / this.perSecond);
  }
}

/**
 * The players waiting for an arrival, longest-idle first. An arrival that finds none is
 * missed: the player count (not the rate) is the cap, like a fixed pool of real users.
 */
export class IdlePool<T> {
  private readonly idle: T[] = [];

  release(item: T): void {
    this.idle.push(item);
  }

  acquire(): T | undefined {
    return this.idle.shift();
  }

  get size(): number {
    return this.idle.length;
  }
}
