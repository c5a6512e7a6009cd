import { Latencies, percentile, RunStats } from '../src/stats';
import { progressLine, summaryLines } from '../src/report';

describe('percentile (nearest rank)', () => {
  it('picks the value at rank ceil(p/100 · n)', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('summarises unsorted latencies', () => {
    const l = new Latencies();
    for (const v of [30.4, 10, 20, 1000.6]) l.add(v);
    expect(l.summary()).toEqual({ count: 4, p50Ms: 20, p99Ms: 1001, maxMs: 1001 });
    expect(new Latencies().summary()).toEqual({ count: 0, p50Ms: null, p99Ms: null, maxMs: null });
  });
});

describe('run stats', () => {
  it('counts accepted and rejected submissions by status, rate limits apart from errors', () => {
    const s = new RunStats();
    s.submitted(202);
    s.submitted(202);
    s.submitted(409);
    s.limited('submit');
    s.limited('login');
    s.limited('submit');
    s.error('submit 409', 'attempt-expired');
    expect(s.accepted).toBe(2);
    expect(s.rejected).toBe(1);
    expect(s.rateLimitedTotal).toBe(3);
    expect(s.rateLimited.get('submit')).toBe(2);
    expect(s.errorTotal).toBe(1);
    expect(s.errorSamples).toEqual([{ kind: 'submit 409', detail: 'attempt-expired' }]);
  });

  it('keeps at most 20 error samples but counts every error', () => {
    const s = new RunStats();
    for (let i = 0; i < 25; i += 1) s.error('browse 500', `#${i}`);
    expect(s.errorTotal).toBe(25);
    expect(s.errorSamples).toHaveLength(20);
  });

  it('prints a progress line with the counts', () => {
    const stats = new RunStats();
    stats.submitted(202);
    stats.visibleLag.add(400);
    stats.limited('browse');
    const line = progressLine({ phase: 'running', elapsedS: 12.2, joined: 3, players: 4, busy: 2, stats });
    expect(line).toBe(
      '  12 s running | players 3/4 (2 playing) | submitted 1 accepted, 0 rejected | on leaderboard 1 (p50 400 ms) | 429s 1 | errors 0',
    );
  });

  it('ends the summary with OK or the problems', () => {
    const latency = { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
    const summary = {
      startedAt: '2026-12-06T06:00:00.000Z',
      url: 'http://127.0.0.1:8080',
      options: { players: 1, rate: 1, durationS: 1, accounts: 'load', resultTimeoutS: 30, publishEveryS: 60 },
      end: 'completed' as const,
      elapsedS: 1,
      loadAverage: { start: 1, end: 1 },
      players: { requested: 1, joined: 1 },
      arrivals: { scheduled: 1, started: 1, missed: 0 },
      emptyCatalogue: 0,
      submissions: { accepted: 1, rejected: 0, byStatus: { '202': 1 } },
      visible: { count: 1, notVisible: 0, unconfirmedRateLimited: 0 },
      lag: { submitToLeaderboard: { count: 1, p50Ms: 5, p99Ms: 5, maxMs: 5 }, submitToResultOnStream: latency },
      steps: { submit: { count: 1, p50Ms: 3, p99Ms: 3, maxMs: 3 }, login: latency },
      rateLimited: { total: 0, byStep: {} },
      errors: { total: 0, byKind: {}, samples: [] },
      author: { status: 'skipped' as const, reason: 'no author', published: 0 },
      ok: true,
      problems: [],
    };
    const ok = summaryLines(summary);
    expect(ok.at(-1)).toBe('OK');
    expect(ok).toContain('    submit       n=1  p50 3 ms  p99 3 ms  max 3 ms');
    expect(ok.some((l) => l.includes('login'))).toBe(false);
    expect(summaryLines({ ...summary, ok: false, problems: ['2 error(s)'] }).at(-1)).toBe('FAILED: 2 error(s)');
  });
});
