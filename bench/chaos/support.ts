/** What the chaos scenarios share: finding and killing app processes, the broker, paced load. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Account, AuthorQuiz, E2EPlatform } from '@quizmesh/e2e';
import { summary } from '../stats';

const exec = promisify(execFile);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid listening on a service's app port: the app process only, not its sidecar. */
export async function appPid(e2e: E2EPlatform, service: string): Promise<number | undefined> {
  const port = new URL(e2e.platform.endpoints[service]?.appUrl ?? 'http://x').port;
  const { stdout } = await exec('ss', ['-ltnpH', `sport = :${port}`]);
  const pid = /pid=(\d+)/.exec(stdout)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/**
 * SIGKILLs the app (not its sidecar) and waits until another process listens on its port (the
 * launcher's supervision restarts it). Answers how long it was gone.
 */
export async function killAppAndAwaitRestart(e2e: E2EPlatform, service: string, limitMs = 120_000): Promise<number> {
  const pid = await appPid(e2e, service);
  if (pid === undefined) throw new Error(`${service} is not listening`);
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  while (Date.now() - killedAt < limitMs) {
    const next = await appPid(e2e, service).catch(() => undefined);
    if (next !== undefined && next !== pid) return Date.now() - killedAt;
    await sleep(100);
  }
  throw new Error(`${service} was not restarted within ${limitMs} ms`);
}

async function rabbitmqctl(...args: string[]): Promise<string> {
  return (await exec('rabbitmqctl', ['-q', ...args], { timeout: 60_000 })).stdout;
}

/** `rabbitmqctl stop_app` and `start_app`: the whole broker goes away for `downMs` (every vhost!). */
export async function restartBrokerApp(downMs: number): Promise<number> {
  const started = Date.now();
  await rabbitmqctl('stop_app');
  await sleep(downMs);
  await rabbitmqctl('start_app');
  await rabbitmqctl('await_startup');
  return Date.now() - started;
}

/**
 * Closes every connection of one vhost: to its clients the broker went away (as in a restart:
 * channels, consumers and unconfirmed publishes are lost), while other vhosts (other runs on a
 * shared broker) are untouched. Answers how many were closed.
 */
export async function dropVhostConnections(vhost: string): Promise<number> {
  const lines = (await rabbitmqctl('list_connections', 'vhost', 'pid'))
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([v, pid]) => v === vhost && pid !== undefined);
  for (const [, pid] of lines) await rabbitmqctl('close_connection', pid ?? '', 'chaos: broker connection lost');
  return lines.length;
}

export interface Submission {
  attemptId: string;
  player: number;
  correct: number;
  at: number;
}

export interface LoadResult {
  accepted: Submission[];
  /** "<status or error>": count — submissions the platform did not accept (not an error of the scenario by itself) */
  refused: Record<string, number>;
  /** the first few refusals: when, and what the platform answered */
  refusalSamples: Array<{ atSecond: number; what: string }>;
  latencyMs: number[];
  achievedPerSecond: number;
}

/**
 * `total` submissions (start + submit through the gateway) at `perSecond`, spread over the
 * players; each player submits one after another (a player's concurrent starts would return the
 * same open attempt). `correctFor(i)` questions right on submission i.
 */
export async function steadyLoad(
  e2e: E2EPlatform,
  players: Account[],
  quiz: AuthorQuiz,
  options: { total: number; perSecond: number; correctFor?: (i: number) => number; signal?: { stop: boolean } },
): Promise<LoadResult> {
  const interval = 1000 / options.perSecond;
  const start = Date.now();
  const accepted: Submission[] = [];
  const refused: Record<string, number> = {};
  const refusalSamples: LoadResult['refusalSamples'] = [];
  const latencyMs: number[] = [];
  const correctFor = options.correctFor ?? ((i: number) => i % (quiz.questions.length + 1));
  await Promise.all(
    players.map(async (player, p) => {
      for (let i = p; i < options.total && !options.signal?.stop; i += players.length) {
        const due = start + i * interval;
        if (due > Date.now()) await sleep(due - Date.now());
        const began = Date.now();
        try {
          const correct = correctFor(i);
          const { attemptId } = await e2e.gateway.play(player, quiz, correct);
          latencyMs.push(Date.now() - began);
          accepted.push({ attemptId, player: p, correct, at: began });
        } catch (err) {
          const status = (err as { status?: unknown }).status;
          const key = typeof status === 'number' ? String(status) : err instanceof Error ? err.name : 'error';
          refused[key] = (refused[key] ?? 0) + 1;
          if (refusalSamples.length < 5) {
            const what = err instanceof Error ? err.message : String(err);
            refusalSamples.push({ atSecond: Math.round((began - start) / 100) / 10, what: what.slice(0, 300) });
          }
        }
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  return {
    accepted,
    refused,
    refusalSamples,
    latencyMs,
    achievedPerSecond: Math.round(((accepted.length + sum(refused)) / seconds) * 10) / 10,
  };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export { summary };

/** Polls `probe` until it answers true; answers the time it took, or undefined after `limitMs`. */
export async function waitFor(
  probe: () => Promise<boolean>,
  limitMs: number,
  intervalMs = 500,
): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await probe().catch(() => false)) return Date.now() - started;
    await sleep(intervalMs);
  }
  return undefined;
}

export async function count(e2e: E2EPlatform, service: string, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await e2e.query<{ n: string }>(service, sql, params);
  return Number(rows[0]?.n ?? 0);
}
