/**
 * One load run: the author publishes first (so a fresh platform has something to play), the
 * players sign in and open their streams, then sessions arrive at `rate` per second for
 * `durationS` (open loop, scheduler.ts), each taken by an idle player; then in-flight sessions
 * drain (each bounded by the result timeout), the streams close and the summary is built.
 * `stop()` (the first Ctrl-C) ends the arrivals early and drains; `abort()` (the second) cuts
 * everything short.
 */
import { loadavg } from 'node:os';
import { Author, type AuthorReport } from './author';
import type { LoadOptions } from './flags';
import { GatewayHttp, sleep } from './http';
import { Player } from './player';
import { ArrivalSchedule, IdlePool } from './scheduler';
import { RunStats, STEPS, type ErrorSample, type LatencySummary } from './stats';

export interface LoadSummary {
  startedAt: string;
  url: string;
  options: {
    players: number;
    rate: number;
    durationS: number;
    accounts: string;
    resultTimeoutS: number;
    publishEveryS: number;
  };
  /** completed: ran its duration; interrupted: Ctrl-C */
  end: 'completed' | 'interrupted';
  elapsedS: number;
  /** the machine's 1-minute load average when the run started and ended (figures depend on it) */
  loadAverage: { start: number; end: number };
  players: { requested: number; joined: number };
  arrivals: { scheduled: number; started: number; missed: number };
  emptyCatalogue: number;
  submissions: { accepted: number; rejected: number; byStatus: Record<string, number> };
  /** accepted submissions whose result showed on the quiz's leaderboard, and those that did not in time */
  visible: { count: number; notVisible: number; unconfirmedRateLimited: number };
  lag: { submitToLeaderboard: LatencySummary; submitToResultOnStream: LatencySummary };
  steps: Record<string, LatencySummary>;
  /** 429s (documented rate limits: waited out per Retry-After), by step; not errors */
  rateLimited: { total: number; byStep: Record<string, number> };
  errors: { total: number; byKind: Record<string, number>; samples: ErrorSample[] };
  author: AuthorReport;
  /** true when nothing but documented rate limits went wrong and at least one submission was accepted */
  ok: boolean;
  problems: string[];
}

export interface ProgressSnapshot {
  phase: 'signing in' | 'running' | 'draining';
  elapsedS: number;
  joined: number;
  players: number;
  busy: number;
  stats: RunStats;
}

export interface RunHooks {
  progress?: (snapshot: ProgressSnapshot) => void;
  progressEveryMs?: number;
  random?: () => number;
  /** receives the controls of the run as soon as it starts */
  control?: (control: { stop(): void; abort(): void }) => void;
}

export async function runLoad(options: LoadOptions, hooks: RunHooks = {}): Promise<LoadSummary> {
  const random = hooks.random ?? Math.random;
  const startedAt = new Date();
  const loadStart = loadavg()[0] as number;
  const stats = new RunStats();
  const http = new GatewayHttp(options.url, random);
  const stopping = new AbortController();
  const aborting = new AbortController();
  let interrupted = false;
  hooks.control?.({
    stop: () => {
      interrupted = true;
      stopping.abort();
    },
    abort: () => {
      interrupted = true;
      stopping.abort();
      aborting.abort();
    },
  });

  const durationMs = options.durationS * 1000;
  const resultTimeoutMs = options.resultTimeoutS * 1000;
  // 429s are waited out while the run could still use the answer: its arrivals plus the drain.
  const hardDeadline = Date.now() + durationMs + resultTimeoutMs + 10_000;
  const ctx = {
    http,
    stats,
    signal: aborting.signal,
    retryUntil: () => hardDeadline,
  };
  const pause = (ms: number) => sleep(ms, aborting.signal);

  let phase: ProgressSnapshot['phase'] = 'signing in';
  const players = Array.from(
    { length: options.players },
    (_, i) =>
      new Player(`${options.accounts}.player${i + 1}@example.com`, `Load player ${i + 1}`, {
        ...ctx,
        password: options.playerPassword,
        resultTimeoutMs,
        random,
        pause,
      }),
  );
  const pool = new IdlePool<Player>();
  let joined = 0;
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  const progress = hooks.progress
    ? setInterval(
        () =>
          hooks.progress?.({
            phase,
            elapsedS: (performance.now() - t0) / 1000,
            joined,
            players: options.players,
            busy: inFlight.size,
            stats,
          }),
        hooks.progressEveryMs ?? 1000,
      )
    : undefined;

  const author = new Author(options.author, options.authorSkipReason, {
    ...ctx,
    random,
    runLabel: startedAt.toISOString().slice(0, 19).replace('T', ' '),
  });
  let authorLoop: Promise<void> = Promise.resolve();
  try {
    await author.publishOne();
    authorLoop = (async () => {
      while (!stopping.signal.aborted && author.active) {
        await sleep(options.publishEveryS * 1000, stopping.signal);
        if (!stopping.signal.aborted) await author.publishOne();
      }
    })();

    await Promise.all(
      players.map(async (player) => {
        if (await player.join()) {
          joined += 1;
          pool.release(player);
        }
      }),
    );

    phase = 'running';
    const schedule = new ArrivalSchedule(options.rate, durationMs);
    const arrivalsStart = performance.now();
    while (!stopping.signal.aborted && joined > 0) {
      const due = schedule.take(performance.now() - arrivalsStart);
      for (let i = 0; i < due; i += 1) {
        stats.arrivals.scheduled += 1;
        const player = pool.acquire();
        if (!player) {
          stats.arrivals.missed += 1;
          continue;
        }
        stats.arrivals.started += 1;
        const session: Promise<void> = player.play().finally(() => {
          inFlight.delete(session);
          pool.release(player);
        });
        inFlight.add(session);
      }
      const next = schedule.nextAtMs();
      if (next === undefined) break;
      await sleep(Math.max(0, next - (performance.now() - arrivalsStart)), stopping.signal);
    }
    phase = 'draining';
    stopping.abort();
    await Promise.all([...inFlight]);
  } finally {
    stopping.abort();
    await authorLoop;
    await Promise.all(players.map((p) => p.leave()));
    if (progress) clearInterval(progress);
  }

  const elapsedS = (performance.now() - t0) / 1000;
  const problems: string[] = [];
  if (joined === 0) problems.push('no player could sign in');
  if (stats.accepted === 0) problems.push('no submission was accepted');
  if (stats.notVisible > 0)
    problems.push(`${stats.notVisible} accepted submission(s) did not show on the leaderboard in time`);
  if (stats.errorTotal > 0) problems.push(`${stats.errorTotal} error(s)`);
  return {
    startedAt: startedAt.toISOString(),
    url: options.url.origin,
    options: {
      players: options.players,
      rate: options.rate,
      durationS: options.durationS,
      accounts: options.accounts,
      resultTimeoutS: options.resultTimeoutS,
      publishEveryS: options.publishEveryS,
    },
    end: interrupted ? 'interrupted' : 'completed',
    elapsedS: Math.round(elapsedS * 10) / 10,
    loadAverage: { start: round2(loadStart), end: round2(loadavg()[0] as number) },
    players: { requested: options.players, joined },
    arrivals: { ...stats.arrivals },
    emptyCatalogue: stats.emptyCatalogue,
    submissions: {
      accepted: stats.accepted,
      rejected: stats.rejected,
      byStatus: Object.fromEntries([...stats.submissions].map(([status, n]) => [String(status), n])),
    },
    visible: { count: stats.visibleLag.count, notVisible: stats.notVisible, unconfirmedRateLimited: stats.unconfirmed },
    lag: { submitToLeaderboard: stats.visibleLag.summary(), submitToResultOnStream: stats.streamLag.summary() },
    steps: Object.fromEntries(STEPS.map((s) => [s, stats.step(s).summary()])),
    rateLimited: { total: stats.rateLimitedTotal, byStep: Object.fromEntries(stats.rateLimited) },
    errors: { total: stats.errorTotal, byKind: Object.fromEntries(stats.errors), samples: stats.errorSamples },
    author: author.report,
    ok: problems.length === 0,
    problems,
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
