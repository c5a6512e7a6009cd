/**
 * Issue 12, item 1, end to end on real RabbitMQ, PostgreSQL and Redis: evaluation's app is
 * SIGKILLed while its sidecar keeps running and players keep submitting. With app health checks
 * (the launcher's sidecar flags, the chart's annotations) the sidecar pauses its subscriptions,
 * so no submission is dead-lettered and compensated: after evaluation is back every attempt is
 * SCORED, none FAILED, and no app lists a dead letter. The outage lasts E2E_APP_DOWN_SECONDS
 * (default 60, as issue 12 asks: longer than any delivery retry policy could bridge).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deadLetterListSchema } from '@quizmesh/platform/deadletters';
import {
  createCast,
  eventually,
  missing,
  quizBody,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
} from '../src';

const run = promisify(execFile);
const DOWN_SECONDS = Number(process.env.E2E_APP_DOWN_SECONDS ?? '60');
const PLAYERS = 10;

let e2e: E2EPlatform;
let players: Account[];
let admin: Account;
let quiz: AuthorQuiz;

beforeAll(async () => {
  // Without supervision: the launcher would bring evaluation back after 1 s, not after the outage.
  e2e = await startE2EPlatform({ backends: 'local', restart: false });
  const cast = await createCast(e2e.gateway, PLAYERS + 2, 'outage');
  players = cast.players;
  admin = cast.admin;
  quiz = await e2e.gateway.publishQuiz(cast.author, quizBody('Consumer outage'));
  await eventually(`evaluation keeps the answer key of ${quiz.id}`, async () => {
    const rows = await e2e.query('evaluation', 'select 1 from "AnswerKey" where "quizId" = $1::uuid', [quiz.id]);
    if (rows.length === 0) throw missing('no AnswerKey row');
  });
}, 300_000);

afterAll(() => e2e?.stop(), 120_000);

/** The pid listening on the app's port: the app process only, not its sidecar. */
async function appPid(service: string): Promise<number> {
  const port = new URL(e2e.platform.endpoints[service]?.appUrl ?? '').port;
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`]);
  const pid = /pid=(\d+)/.exec(stdout)?.[1];
  if (pid === undefined) throw new Error(`nothing listens on ${service}'s port ${port}`);
  return Number(pid);
}

it(`scores every submission made while evaluation's app was down for ${DOWN_SECONDS} s; none FAILED`, async () => {
  process.kill(await appPid('evaluation'), 'SIGKILL');

  const attemptIds: string[] = [];
  const until = Date.now() + DOWN_SECONDS * 1000;
  await Promise.all(
    players.map(async (player, p) => {
      for (let round = 0; Date.now() < until; round += 1) {
        attemptIds.push((await e2e.gateway.play(player, quiz, (p + round) % (quiz.questions.length + 1))).attemptId);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }),
  );
  expect(attemptIds.length).toBeGreaterThan(PLAYERS);

  // Bring evaluation back (its sidecar was running all along; the launcher restarts both).
  await e2e.platform.stopService('evaluation');
  await e2e.platform.startService('evaluation');

  await eventually(
    `all ${attemptIds.length} attempts settled`,
    async () => {
      const rows = await e2e.query<{ n: string }>(
        'quiz',
        `select count(*)::text as n from "Attempt" where status <> 'SUBMITTED' and id = any($1::uuid[])`,
        [attemptIds],
      );
      if (Number(rows[0]?.n) < attemptIds.length) throw missing(`${rows[0]?.n} settled`);
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const statuses = await e2e.query<{ status: string; n: string }>(
    'quiz',
    `select status, count(*)::text as n from "Attempt" where id = any($1::uuid[]) group by status`,
    [attemptIds],
  );
  expect(statuses).toEqual([{ status: 'SCORED', n: String(attemptIds.length) }]);
  // ... and nothing was dead-lettered on the way: no app lists an open dead letter.
  for (const app of ['evaluation', 'quiz', 'identity', 'notification']) {
    const listed = await e2e.gateway.expect(200, deadLetterListSchema, 'GET', `/api/v1/admin/dead-letters/${app}`, {
      token: admin.token,
    });
    expect([app, listed.total]).toEqual([app, 0]);
  }
}, 400_000);
