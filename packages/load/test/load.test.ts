/**
 * `npm run load` against the whole platform as `npm start` runs it (embedded backends, the
 * gateway's rate limits with a tight per-address one): the command, as CI would run it, for
 * 20 s. Every accepted submission must show on its quiz's leaderboard, and nothing may fail but
 * documented rate limits, which it meets and waits out (exit 0). Then a second run reuses the accounts and is stopped by Ctrl-C: it drains,
 * prints its summary and exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_EMAIL, runLoadCommand, startE2EPlatform, type E2EPlatform, type LoadCommandRun } from '@quizmesh/e2e';
import type { LoadSummary } from '../src';

jest.setTimeout(300_000);

const AUTHOR_PASSWORD = 'e2e admin password 1';
const PER_ADDRESS_LIMIT = 20;

/** The command `npm run load` runs, as the first-run author with the test's password. */
function runLoad(args: string[], out: string, interruptWhen?: RegExp): Promise<LoadCommandRun<LoadSummary>> {
  return runLoadCommand<LoadSummary>({ args, out, authorPassword: AUTHOR_PASSWORD, interruptWhen });
}

describe('npm run load against the platform', () => {
  let e2e: E2EPlatform;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quizmesh-load-'));
    e2e = await startE2EPlatform({
      backends: 'embedded',
      // The gateway's default limits (docs/api.md), not the e2e harness's unlimited ones, but with
      // 20 requests per 10 s per address: the run must meet 429s and wait them out.
      serviceEnv: {
        gateway: {
          RATE_LIMIT_PER_IP: String(PER_ADDRESS_LIMIT),
          RATE_LIMIT_WINDOW_S: '10',
          RATE_LIMIT_PER_USER: '300',
          REGISTER_RATE_LIMIT: '10',
        },
      },
    });
  });
  afterAll(async () => {
    await e2e?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plays for 20 s under a tight per-address limit: submissions accepted, each seen on the leaderboard, 429s waited out, no errors', async () => {
    const url = e2e.platform.gatewayUrl;
    const run = await runLoad(
      ['--url', url, '--duration', '20', '--players', '4', '--rate', '1', '--author-email', ADMIN_EMAIL],
      join(dir, 'first.json'),
    );
    const { summary } = run;
    expect({ code: run.code, problems: summary.problems, errors: summary.errors }).toEqual({
      code: 0,
      problems: [],
      errors: { total: 0, byKind: {}, samples: [] },
    });
    expect(summary.end).toBe('completed');
    expect(summary.players).toEqual({ requested: 4, joined: 4 });
    expect(summary.author).toMatchObject({ status: 'active', email: ADMIN_EMAIL });
    expect(summary.author.published).toBeGreaterThanOrEqual(1);
    expect(summary.submissions.accepted).toBeGreaterThan(0);
    expect(summary.submissions.byStatus).toEqual({ '202': summary.submissions.accepted });
    expect(summary.visible).toEqual({ count: summary.submissions.accepted, notVisible: 0, unconfirmedRateLimited: 0 });
    expect(summary.lag.submitToLeaderboard.count).toBe(summary.submissions.accepted);
    expect(summary.lag.submitToResultOnStream.count).toBeGreaterThan(0);
    for (const step of ['login', 'stream', 'browse', 'open', 'start', 'submit', 'publish'])
      expect({ step, count: summary.steps[step]?.count }).toEqual({ step, count: expect.any(Number) });
    expect(summary.steps.submit?.count).toBe(summary.submissions.accepted);
    // 4 players at 1 session/s ask for ~5 requests/s; the gateway allows 2: it answered 429s,
    // the players waited them out (Retry-After), and none of them counted as an error.
    expect(summary.rateLimited.total).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/rate limits\s+\d+ × 429 \(waited out per Retry-After; not errors\)/);
    expect(run.stdout).toMatch(/submit → on the leaderboard\s+n=\d+\s+p50 \d+ ms\s+p99 \d+ ms/);
    expect(run.stdout).toMatch(/\nOK\n/);
  });

  it('stops on Ctrl-C with a summary, signing the same accounts in again', async () => {
    const url = e2e.platform.gatewayUrl;
    const run = await runLoad(
      ['--url', url, '--duration', '600', '--players', '2', '--rate', '1', '--author-email', ADMIN_EMAIL],
      join(dir, 'interrupted.json'),
      /running \| .* submitted [1-9]/,
    );
    expect(run.stderr).toMatch(/stopping \(draining/);
    expect(run.summary.end).toBe('interrupted');
    expect(run.summary.elapsedS).toBeLessThan(600);
    expect(run.summary.steps.register?.count).toBe(0); // the first run's accounts, logged in
    expect(run.summary.errors.total).toBe(0);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Load run against .*: interrupted after/);
  });
});
