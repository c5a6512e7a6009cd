/**
 * What every chaos scenario does to the platform, the load aside (gateway-load.ts): start it on
 * real backends with a cast and a published quiz, kill an app and wait for the supervisor's
 * restart, take the broker away, poll and count rows, and check that every accepted submission
 * settled (SCORED, none FAILED).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  createCast,
  eventually,
  missing,
  quizBody,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
} from '@quizmesh/e2e';

const exec = promisify(execFile);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ChaosPlatform {
  e2e: E2EPlatform;
  /** the author, the admin and the players */
  cast: Awaited<ReturnType<typeof createCast>>;
  players: Account[];
  quiz: AuthorQuiz;
}

export async function startChaosPlatform(options: {
  players: number;
  replicas?: { quiz?: number; evaluation?: number };
  prefix: string;
}): Promise<ChaosPlatform> {
  const e2e = await startE2EPlatform({
    backends: 'local',
    ...(options.replicas ? { replicas: options.replicas } : {}),
  });
  try {
    const cast = await createCast(e2e.gateway, options.players, options.prefix);
    const quiz = await e2e.gateway.publishQuiz(cast.author, quizBody(`Chaos ${options.prefix}`));
    await eventually(
      `evaluation keeps the answer key of ${quiz.id}`,
      async () => {
        const rows = await e2e.query('evaluation', 'select 1 from "AnswerKey" where "quizId" = $1::uuid', [quiz.id]);
        if (rows.length === 0) throw missing('no AnswerKey row');
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    return { e2e, cast, players: cast.players, quiz };
  } catch (err) {
    await e2e.stop();
    throw err;
  }
}

/**
 * Waits until the supervisor has replaced `oldPid` (the app of `service`'s replica) with a new
 * process that answers /readyz 200; resolves with the milliseconds since `since`.
 */
/**
 * SIGKILLs `pids` and resolves when each is really gone (no /proc entry, or a zombie with no thread left): on a busy
 * machine the kernel may take tens of milliseconds to act on the signal, and the process keeps
 * accepting requests until then. Without /proc (not Linux) the moment of the signal is taken.
 */
export async function killAndWaitDead(pids: number[]): Promise<{ killedAt: number; diedAt: number }> {
  const killedAt = Date.now();
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  // Dead once every thread has exited: the main thread shows as a zombie (Z) first, while the
  // others still exit and the listener stays open, queueing connections it will reset (decision
  // 0940). Only when the last thread is gone does the kernel close its sockets.
  const alive = (pid: number): boolean => {
    try {
      if (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
      return readdirSync(`/proc/${pid}/task`).length > 1;
    } catch {
      return false;
    }
  };
  const deadline = killedAt + 5_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return { killedAt, diedAt: Date.now() };
}

export async function waitForRestart(
  e2e: E2EPlatform,
  service: string,
  replica: number,
  oldPid: number,
  since: number,
  timeoutMs = 60_000,
): Promise<number> {
  await eventually(
    `${service} replica ${replica} restarted by the supervisor and ready`,
    async () => {
      const instance = e2e.platform.instances(service)[replica];
      if (!instance?.appPid || instance.appPid === oldPid) throw missing('still the old process, or none');
      const res = await fetch(`${instance.appUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status !== 200) throw missing(`readyz ${res.status}`);
    },
    { timeoutMs, intervalMs: 100 },
  );
  return Date.now() - since;
}

/**
 * SIGKILLs the app (not its sidecar) of `service`'s first replica and waits until the supervisor's
 * replacement is ready; answers how long the app was gone.
 */
export async function killAppAndAwaitRestart(e2e: E2EPlatform, service: string, timeoutMs = 120_000): Promise<number> {
  const pid = e2e.platform.instances(service)[0]?.appPid;
  if (pid === undefined) throw new Error(`${service} is not running`);
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  return waitForRestart(e2e, service, 0, pid, killedAt, timeoutMs);
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

/**
 * Polls `probe` until it answers true; answers the time it took, or undefined after `limitMs`
 * (a figure, where `eventually` would throw).
 */
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

/** The `n` column of the first row of `sql` on `service`'s database. */
export async function count(e2e: E2EPlatform, service: string, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await e2e.query<{ n: string }>(service, sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** Waits for every accepted submission to leave SUBMITTED; answers how they ended and how long it took. */
export async function settle(e2e: E2EPlatform, attemptIds: string[], timeoutMs = 120_000) {
  const started = Date.now();
  const count = async () => {
    const rows = await e2e.query<{ status: string; n: string }>(
      'quiz',
      'select status::text as status, count(*)::text as n from "Attempt" where id = any($1::uuid[]) group by status',
      [attemptIds],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) as Record<string, number>;
  };
  try {
    await eventually(
      'every accepted submission settled',
      async () => {
        const byStatus = await count();
        if ((byStatus.SUBMITTED ?? 0) > 0) throw missing(`${byStatus.SUBMITTED} still SUBMITTED`);
      },
      { timeoutMs, intervalMs: 500 },
    );
  } catch {
    // reported through the counts below
  }
  const byStatus = await count();
  return {
    accepted: attemptIds.length,
    scored: byStatus.SCORED ?? 0,
    failed: byStatus.FAILED ?? 0,
    stillSubmitted: byStatus.SUBMITTED ?? 0,
    settleMs: Date.now() - started,
  };
}
