/**
 * What a run counts: per step the latencies (p50/p99 by nearest rank over every sample; a
 * run keeps at most a few hundred thousand numbers), submissions by answer status, the
 * submit → leaderboard-visible lag, rate limits (429s, not errors) and errors by kind.
 */

/** Nearest-rank percentile of sorted values (p in 0..100); undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export class Latencies {
  private readonly values: number[] = [];

  add(ms: number): void {
    this.values.push(ms);
  }

  get count(): number {
    return this.values.length;
  }

  summary(): LatencySummary {
    const sorted = [...this.values].sort((a, b) => a - b);
    const round = (v: number | undefined) => (v === undefined ? null : Math.round(v));
    return {
      count: sorted.length,
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      maxMs: round(sorted[sorted.length - 1]),
    };
  }
}

/** The steps a player and the author take, in the order they take them. */
export const STEPS = [
  'register',
  'login',
  'stream',
  'browse',
  'open',
  'start',
  'submit',
  'attempt',
  'leaderboard',
  'publish',
] as const;
export type Step = (typeof STEPS)[number];

const MAX_ERROR_SAMPLES = 20;

export interface ErrorSample {
  kind: string;
  detail: string;
}

export class RunStats {
  readonly steps = new Map<Step, Latencies>(STEPS.map((s) => [s, new Latencies()]));
  /** submit answers by HTTP status: 202 accepted, anything else rejected */
  readonly submissions = new Map<number, number>();
  /** submit (202) → the result's line on the quiz's leaderboard was seen */
  readonly visibleLag = new Latencies();
  /** submit (202) → the `result` notification arrived on the player's stream */
  readonly streamLag = new Latencies();
  notVisible = 0;
  /** accepted, but the check that would have seen it was still rate-limited when the run ended */
  unconfirmed = 0;
  /** arrivals of the open-loop schedule: started by an idle player, or missed (every player busy) */
  arrivals = { scheduled: 0, started: 0, missed: 0 };
  /** sessions that found nothing to play (an empty catalogue) */
  emptyCatalogue = 0;
  readonly rateLimited = new Map<Step, number>();
  readonly errors = new Map<string, number>();
  readonly errorSamples: ErrorSample[] = [];
  published = 0;

  step(step: Step): Latencies {
    return this.steps.get(step) as Latencies;
  }

  submitted(status: number): void {
    this.submissions.set(status, (this.submissions.get(status) ?? 0) + 1);
  }

  get accepted(): number {
    return this.submissions.get(202) ?? 0;
  }

  get rejected(): number {
    let n = 0;
    for (const [status, count] of this.submissions) if (status !== 202) n += count;
    return n;
  }

  limited(step: Step): void {
    this.rateLimited.set(step, (this.rateLimited.get(step) ?? 0) + 1);
  }

  get rateLimitedTotal(): number {
    return sum(this.rateLimited.values());
  }

  error(kind: string, detail: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push({ kind, detail: detail.slice(0, 300) });
  }

  get errorTotal(): number {
    return sum(this.errors.values());
  }
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}
