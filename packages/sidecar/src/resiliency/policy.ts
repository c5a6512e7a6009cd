/**
 * Resiliency policies as daprd applies them (pkg/resiliency/policy.go): the retry wraps the
 * circuit breaker, which wraps the timeout, so the timeout applies to each attempt.
 * Time is injected (Clock) so the state machines can be tested without waiting.
 */
import type { PolicyRunner } from './types';
import type { CircuitBreakerSpec, RetryPolicySpec } from '../resources/types';
import { parseTripExpression, type BreakerCounts } from './trip';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Thrown by an operation whose outcome was an HTTP status: retried only if the retry policy matches the status. */
export class StatusFailure extends Error {
  constructor(
    readonly statusCode: number,
    readonly payload: unknown,
  ) {
    super(`received status ${statusCode}`);
    this.name = 'StatusFailure';
  }
}

/** Thrown by an operation for an outcome that is the caller's fault (ETag mismatch…): not retried, not a breaker failure. */
export class PermanentOutcome extends Error {
  constructor(override readonly cause: unknown) {
    super('permanent outcome');
    this.name = 'PermanentOutcome';
  }
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timeout: operation did not complete within ${ms}ms`);
    this.name = 'TimeoutError';
  }
}

export class CircuitOpenError extends Error {
  constructor(name: string, halfOpen: boolean) {
    super(
      halfOpen
        ? `circuit breaker "${name}" is half-open and has no free probe slot: too many requests`
        : `circuit breaker "${name}" is open`,
    );
    this.name = 'CircuitOpenError';
  }
}

type BreakerState = 'closed' | 'open' | 'half-open';

/** gobreaker semantics, which Dapr uses: counts reset every `interval` while closed, open for `timeout`, then `maxRequests` probes. */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private generation = 0;
  private counts: BreakerCounts = zeroCounts();
  private expiry = 0;
  private readonly shouldTrip: (counts: BreakerCounts) => boolean;

  constructor(
    readonly name: string,
    private readonly spec: CircuitBreakerSpec,
    private readonly clock: Clock,
  ) {
    this.shouldTrip = parseTripExpression(spec.trip);
    this.newGeneration(clock.now());
  }

  currentState(): BreakerState {
    this.refresh(this.clock.now());
    return this.state;
  }

  async execute<T>(operation: () => Promise<T>): Promise<T> {
    const generation = this.before();
    try {
      const result = await operation();
      this.after(generation, true);
      return result;
    } catch (err) {
      this.after(generation, err instanceof PermanentOutcome);
      throw err;
    }
  }

  private before(): number {
    const now = this.clock.now();
    this.refresh(now);
    if (this.state === 'open') throw new CircuitOpenError(this.name, false);
    if (this.state === 'half-open' && this.counts.requests >= this.spec.maxRequests)
      throw new CircuitOpenError(this.name, true);
    this.counts.requests += 1;
    return this.generation;
  }

  private after(generation: number, success: boolean): void {
    const now = this.clock.now();
    this.refresh(now);
    if (generation !== this.generation) return;
    const c = this.counts;
    if (success) {
      c.totalSuccesses += 1;
      c.consecutiveSuccesses += 1;
      c.consecutiveFailures = 0;
      if (this.state === 'half-open' && c.consecutiveSuccesses >= this.spec.maxRequests) this.setState('closed', now);
    } else {
      c.totalFailures += 1;
      c.consecutiveFailures += 1;
      c.consecutiveSuccesses = 0;
      if (this.state === 'half-open' || (this.state === 'closed' && this.shouldTrip(c))) this.setState('open', now);
    }
  }

  private refresh(now: number): void {
    if (this.state === 'closed' && this.expiry !== 0 && this.expiry <= now) this.newGeneration(now);
    else if (this.state === 'open' && this.expiry <= now) this.setState('half-open', now);
  }

  private setState(state: BreakerState, now: number): void {
    this.state = state;
    this.newGeneration(now);
  }

  private newGeneration(now: number): void {
    this.generation += 1;
    this.counts = zeroCounts();
    if (this.state === 'closed') this.expiry = this.spec.intervalMs > 0 ? now + this.spec.intervalMs : 0;
    else if (this.state === 'open') this.expiry = now + this.spec.timeoutMs;
    else this.expiry = 0;
  }
}

function zeroCounts(): BreakerCounts {
  return { requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 };
}

function isRetriable(retry: RetryPolicySpec, err: unknown): boolean {
  if (err instanceof PermanentOutcome || err instanceof CircuitOpenError) return false;
  if (err instanceof StatusFailure && retry.httpStatusCodes !== undefined) {
    return retry.httpStatusCodes.some(([from, to]) => err.statusCode >= from && err.statusCode <= to);
  }
  return true;
}

/** Wait before retry number `attempt` (1-based): constant, or exponential back-off as cenkalti/backoff (0.5 s, ×1.5, ±50 %). */
export function backoffDelay(retry: RetryPolicySpec, attempt: number, random: () => number = Math.random): number {
  if (retry.policy === 'constant') return retry.durationMs;
  const base = Math.min(500 * 1.5 ** (attempt - 1), retry.maxIntervalMs);
  const jittered = base * (0.5 + random());
  return Math.min(jittered, retry.maxIntervalMs);
}

export interface PolicyParts {
  timeoutMs: number | undefined;
  retry: RetryPolicySpec | undefined;
  breaker: CircuitBreaker | undefined;
}

/** Runs operations under one target's timeout, retry and circuit-breaker policies. */
export class TargetPolicyRunner implements PolicyRunner {
  constructor(
    readonly parts: PolicyParts,
    private readonly clock: Clock = systemClock,
  ) {}

  async run<T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { retry, breaker } = this.parts;
    for (let attempt = 0; ; attempt++) {
      try {
        const once = (): Promise<T> => this.withTimeout(operation);
        return await (breaker ? breaker.execute(once) : once());
      } catch (err) {
        const retriesLeft = retry !== undefined && (retry.maxRetries === -1 || attempt < retry.maxRetries);
        if (!retry || !retriesLeft || !isRetriable(retry, err)) throw err;
        await this.clock.sleep(backoffDelay(retry, attempt + 1));
      }
    }
  }

  private async withTimeout<T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = this.parts.timeoutMs;
    if (timeoutMs === undefined || timeoutMs <= 0) return operation(NEVER_ABORTED);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new TimeoutError(timeoutMs);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    try {
      return await Promise.race([operation(controller.signal), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A signal that never aborts, for operations without a timeout (lets HTTP calls skip abort listeners). */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * Aborted when either signal is, for two signals that end with the call. Never pass a signal
 * that outlives it (the sidecar's shutdown): Node 20's AbortSignal.any keeps a WeakRef to every
 * composite in each source signal for the source's whole life (about 60 bytes per call, never
 * freed). NEVER_ABORTED is one of those, so it is not combined but left out.
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (a === NEVER_ABORTED) return b;
  if (b === NEVER_ABORTED) return a;
  return AbortSignal.any([a, b]);
}

/** No policy: one attempt, no timeout. */
export const noPolicy: PolicyRunner = { run: (operation) => operation(NEVER_ABORTED) };
