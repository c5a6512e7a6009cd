/**
 * Waiting for asynchronous effects without sleep-and-assert: `probe` is retried until it
 * returns, and the deadline only bounds how long a failure takes to report. The error names
 * what was awaited and what the last probe found missing.
 */
export interface EventuallyOptions {
  /** give up after this long (a failure bound, not an assertion about speed) */
  timeoutMs?: number;
  /** pause between probes */
  intervalMs?: number;
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

export async function eventually<T>(
  awaited: string,
  probe: () => Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      const last = err instanceof Error ? err.message : String(err);
      if (Date.now() >= deadline) throw new StillMissingError(awaited, last, timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
