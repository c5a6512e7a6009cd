/**
 * What R2 and R6 share around the load: the platform on real backends with a cast and a
 * published quiz, waiting for a supervised restart, and the check that every accepted
 * submission settled (SCORED, none FAILED).
 */
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

export interface ChaosPlatform {
  e2e: E2EPlatform;
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
    await eventually(`evaluation keeps the answer key of ${quiz.id}`, async () => {
      const rows = await e2e.query('evaluation', 'select 1 from "AnswerKey" where "quizId" = $1::uuid', [quiz.id]);
      if (rows.length === 0) throw missing('no AnswerKey row');
    });
    return { e2e, players: cast.players, quiz };
  } catch (err) {
    await e2e.stop();
    throw err;
  }
}

/**
 * Waits until the supervisor has replaced `oldPid` (the app of `service`'s replica) with a new
 * process that answers /readyz 200; resolves with the milliseconds since `since`.
 */
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
