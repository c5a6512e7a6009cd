/**
 * Waiting for asynchronous effects without sleep-and-assert. Two forms, one loop:
 *
 * - `eventually(condition)` re-checks a boolean until it holds. With no `timeoutMs` jest's test
 *   timeout is the only bound (no timing assertion).
 * - `eventually(awaited, probe)` retries `probe` until it returns, and resolves with its value.
 *   The probe throws (`missing(...)`) to say what is not there yet; past `timeoutMs` (default
 *   30 s, a failure bound, not an assertion about speed) the error names what was awaited and
 *   what the last probe found missing.
 *
 * Both re-check every `intervalMs`, and at once when `wakeOn` is notified (e.g. a test
 * subscriber just captured an event), so waiting on a signal costs no polling delay.
 */
export interface EventuallyOptions {
  /** give up after this long; default: never for a condition, 30 s for a named probe */
  timeoutMs?: number;
  /** pause between checks; default 25 ms for a condition, 100 ms for a named probe */
  intervalMs?: number;
  /** re-check as soon as this is notified, without waiting for the interval */
  wakeOn?: WakeSignal;
}

/** Notified by whatever changes the awaited state; wakes every `eventually` waiting on it. */
export class WakeSignal {
  private waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next `notify()` or after `ms`, whichever comes first. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}

export class StillMissingError extends Error {
  constructor(
    readonly awaited: string,
    readonly lastMissing: string,
    timeoutMs: number,
  ) {
    super(`${awaited}: still not the case after ${timeoutMs} ms; last check: ${lastMissing}`);
    this.name = 'StillMissingError';
  }
}

/** Throw `missing(...)` from a probe to say what is not there yet (any other error counts the same way). */
export function missing(what: string): Error {
  return new Error(what);
}

export function eventually(condition: () => boolean | Promise<boolean>, options?: EventuallyOptions): Promise<void>;
export function eventually<T>(awaited: string, probe: () => Promise<T>, options?: EventuallyOptions): Promise<T>;
export async function eventually<T>(
  first: string | (() => boolean | Promise<boolean>),
  second?: (() => Promise<T>) | EventuallyOptions,
  third?: EventuallyOptions,
): Promise<T | void> {
  if (typeof first === 'function') {
    // A condition that throws fails the wait at once (only `false` means "not yet").
    const { timeoutMs = Infinity, intervalMs = 25, wakeOn } = (second as EventuallyOptions | undefined) ?? {};
    const deadline = Date.now() + timeoutMs;
    while (!(await first())) {
      if (Date.now() >= deadline) throw new StillMissingError('the condition', 'it is false', timeoutMs);
      await pause(intervalMs, wakeOn);
    }
    return;
  }
  if (typeof second !== 'function') throw new TypeError('eventually(awaited, probe): the probe is missing');
  return retry(first, second, { timeoutMs: 30_000, intervalMs: 100, ...third });
}

async function retry<T>(
  awaited: string,
  probe: () => Promise<T>,
  options: Required<Pick<EventuallyOptions, 'timeoutMs' | 'intervalMs'>> & Pick<EventuallyOptions, 'wakeOn'>,
): Promise<T> {
  const { timeoutMs, intervalMs, wakeOn } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      const last = err instanceof Error ? err.message : String(err);
      if (Date.now() >= deadline) throw new StillMissingError(awaited, last, timeoutMs);
    }
    await pause(intervalMs, wakeOn);
  }
}

function pause(ms: number, wakeOn: WakeSignal | undefined): Promise<void> {
  return wakeOn ? wakeOn.next(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}
