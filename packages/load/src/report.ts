/** The progress line and the closing summary, as text. */
import type { LoadSummary, ProgressSnapshot } from './run';
import type { LatencySummary } from './stats';

export function progressLine(s: ProgressSnapshot): string {
  const { stats } = s;
  const lag = stats.visibleLag.summary();
  return [
    `${s.elapsedS.toFixed(0).padStart(4)} s ${s.phase}`,
    `players ${s.joined}/${s.players} (${s.busy} playing)`,
    `submitted ${stats.accepted} accepted, ${stats.rejected} rejected`,
    `on leaderboard ${stats.visibleLag.count}${lag.p50Ms !== null ? ` (p50 ${lag.p50Ms} ms)` : ''}`,
    `429s ${stats.rateLimitedTotal}`,
    `errors ${stats.errorTotal}`,
  ].join(' | ');
}

function latency(l: LatencySummary): string {
  return l.count === 0 ? '-' : `n=${l.count}  p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms  max ${l.maxMs} ms`;
}

export function summaryLines(summary: LoadSummary): string[] {
  const lines = [
    `Load run against ${summary.url}: ${summary.end} after ${summary.elapsedS} s ` +
      `(load average ${summary.loadAverage.start} → ${summary.loadAverage.end})`,
    `  players      ${summary.players.joined}/${summary.players.requested} signed in; sessions ${summary.arrivals.started} started, ` +
      `${summary.arrivals.missed} missed (every player busy) of ${summary.arrivals.scheduled}` +
      (summary.emptyCatalogue ? `; ${summary.emptyCatalogue} found no quiz to play` : ''),
    `  submissions  ${summary.submissions.accepted} accepted, ${summary.submissions.rejected} rejected; by status ` +
      JSON.stringify(summary.submissions.byStatus),
    `  leaderboard  ${summary.visible.count} visible, ${summary.visible.notVisible} not in time` +
      (summary.visible.unconfirmedRateLimited
        ? `, ${summary.visible.unconfirmedRateLimited} unconfirmed (the check stayed rate-limited)`
        : ''),
    `  submit → on the leaderboard   ${latency(summary.lag.submitToLeaderboard)}`,
    `  submit → result on the stream ${latency(summary.lag.submitToResultOnStream)}`,
    '  steps:',
    ...Object.entries(summary.steps)
      .filter(([, l]) => l.count > 0)
      .map(([step, l]) => `    ${step.padEnd(12)} ${latency(l)}`),
    `  rate limits  ${summary.rateLimited.total} × 429 (waited out per Retry-After; not errors) ${
      summary.rateLimited.total ? JSON.stringify(summary.rateLimited.byStep) : ''
    }`.trimEnd(),
    `  author       ${
      summary.author.status === 'active'
        ? `${summary.author.email} published ${summary.author.published} quiz(zes)`
        : `skipped: ${summary.author.reason}`
    }`,
    `  errors       ${summary.errors.total}${summary.errors.total ? ` ${JSON.stringify(summary.errors.byKind)}` : ''}`,
    ...summary.errors.samples.slice(0, 5).map((e) => `    ✗ ${e.kind}: ${e.detail}`),
    summary.ok ? 'OK' : `FAILED: ${summary.problems.join('; ')}`,
  ];
  return lines;
}
