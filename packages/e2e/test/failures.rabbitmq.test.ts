/**
 * Failure modes of the event-driven core on real RabbitMQ, PostgreSQL and Redis (the run's own
 * vhost, databases and keys), through the gateway wherever a client would be:
 *  (a) evaluation down (app and sidecar) while 1,000 submissions arrive: the durable queue
 *      `evaluation-quiz.completed` keeps them, and after the restart each is scored exactly once;
 *  (b) the same quiz.completed delivered twice (same CloudEvent id, and the same attempt under a
 *      new id): one result, one score.calculated, one leaderboard entry;
 *  (c) a poison completion (a quiz version evaluation has no key for) is retried, dead-lettered,
 *      listed for an admin through the gateway, the queue keeps flowing, and a replay after the
 *      fix scores it;
 *  (d) quiz down: evaluation still scores from its own answer keys, and quiz catches up after.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { quizCompleted, quizPublished, eventTypeOf } from '@quizmesh/contracts/events';
import { deadLetterListSchema, deadLetterReplayResultSchema } from '@quizmesh/platform/deadletters';
import {
  createCast,
  eventually,
  missing,
  quizBody,
  scoreOf,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
} from '../src';

const run = promisify(execFile);

const SUBMISSIONS = 1_000;
const PLAYERS = 20; // each submits SUBMISSIONS / PLAYERS attempts one after another, all players at once
const SCORING_CONSUMER = 'evaluation.score-attempt';

let e2e: E2EPlatform;
let admin: Account;
let players: Account[];
let quiz: AuthorQuiz;

beforeAll(async () => {
  e2e = await startE2EPlatform({ backends: 'local' });
  const cast = await createCast(e2e.gateway, PLAYERS + 4);
  admin = cast.admin;
  players = cast.players;
  quiz = await e2e.gateway.publishQuiz(cast.author, quizBody('Failure modes'));
  await answerKeyKept(quiz.id, quiz.version);
}, 300_000);

afterAll(() => e2e?.stop(), 120_000);

async function answerKeyKept(quizId: string, version: number) {
  await eventually(`evaluation keeps the answer key of ${quizId} v${version}`, async () => {
    const rows = await e2e.query(
      'evaluation',
      'select 1 from "AnswerKey" where "quizId" = $1::uuid and "version" = $2',
      [quizId, version],
    );
    if (rows.length === 0) throw missing('no AnswerKey row');
  });
}

async function queueDepth(queue: string): Promise<number | undefined> {
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_queues',
    '-p',
    e2e.platform.runId ?? '',
    'name',
    'messages',
  ]);
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[0] === queue);
  return line === undefined ? undefined : Number(line.split(/\s+/)[1]);
}

async function count(service: string, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await e2e.query<{ n: string }>(service, sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** `rounds` attempts per player, one after another per player, every player in parallel. */
async function submitMany(group: Account[], rounds: number): Promise<string[]> {
  const perPlayer = await Promise.all(
    group.map(async (player, p) => {
      const ids: string[] = [];
      for (let round = 0; round < rounds; round += 1) {
        ids.push((await e2e.gateway.play(player, quiz, (p + round) % (quiz.questions.length + 1))).attemptId);
      }
      return ids;
    }),
  );
  return perPlayer.flat();
}

function handledLines(eventId: string) {
  return e2e.logLines('evaluation').filter((l) => l.msg === 'quiz.completed handled' && l.eventId === eventId);
}

describe('event-driven core on real RabbitMQ: failures', () => {
  it('(a) keeps 1,000 submissions in the durable queue while evaluation is down and scores each exactly once after the restart', async () => {
    const group = players.slice(0, PLAYERS);
    await e2e.platform.stopService('evaluation', { signal: 'SIGKILL' });

    const attemptIds = await submitMany(group, SUBMISSIONS / PLAYERS);
    expect(new Set(attemptIds).size).toBe(SUBMISSIONS);
    // quiz's outbox relay publishes them all; evaluation's queue holds them, nothing consumes it.
    await eventually(
      `${SUBMISSIONS} messages waiting in evaluation-quiz.completed`,
      async () => {
        const depth = await queueDepth('evaluation-quiz.completed');
        // At least: a publish that timed out but arrived is sent again (at-least-once); evaluation dedupes.
        if (depth === undefined || depth < SUBMISSIONS) throw missing(`queue depth ${String(depth)}`);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    await e2e.platform.startService('evaluation');
    await eventually(
      `all ${SUBMISSIONS} attempts scored`,
      async () => {
        const scored = await count('evaluation', 'select count(*)::text as n from "Result"');
        if (scored < SUBMISSIONS) throw missing(`${scored} results`);
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );

    // Exactly once: one result per attempt, one scoring mark per event, one score.calculated per attempt.
    const results = await e2e.query<{ attemptId: string }>(
      'evaluation',
      'select "attemptId"::text as "attemptId" from "Result"',
    );
    expect(results.map((r) => r.attemptId).sort()).toEqual([...attemptIds].sort());
    expect(
      await count('evaluation', 'select count(*)::text as n from "ProcessedEvent" where consumer = $1', [
        SCORING_CONSUMER,
      ]),
    ).toBe(SUBMISSIONS);
    expect(
      await count(
        'evaluation',
        `select count(distinct data->>'attemptId')::text as n from "OutboxEvent" where topic = 'score.calculated'`,
      ),
    ).toBe(SUBMISSIONS);
    expect(
      await count('evaluation', `select count(*)::text as n from "OutboxEvent" where topic = 'score.calculated'`),
    ).toBe(SUBMISSIONS);

    // ... and its effects once: every attempt SCORED in quiz, every player's attempts counted once in identity.
    await eventually(
      'quiz marks every attempt SCORED',
      async () => {
        const scored = await count(
          'quiz',
          `select count(*)::text as n from "Attempt" where status = 'SCORED' and id = any($1::uuid[])`,
          [attemptIds],
        );
        if (scored < SUBMISSIONS) throw missing(`${scored} SCORED`);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    for (const player of group) {
      const stats = await eventually(`${player.displayName}'s ${SUBMISSIONS / PLAYERS} attempts counted`, async () => {
        const { stats: found } = await e2e.gateway.profile(player);
        if (found.attempts < SUBMISSIONS / PLAYERS) throw missing(`${found.attempts} attempts`);
        return found;
      });
      expect(stats.attempts).toBe(SUBMISSIONS / PLAYERS);
    }
    expect(await queueDepth('evaluation-quiz.completed')).toBe(0);
    const board = await e2e.gateway.leaderboard(admin, `quiz/${quiz.id}`);
    expect(board.totalPlayers).toBe(PLAYERS);
  }, 420_000);

  it('(b) scores a quiz.completed delivered twice once, and counts it once on the leaderboard', async () => {
    const player = players[PLAYERS] as Account;
    const { attemptId } = await e2e.gateway.play(player, quiz, 2);
    await eventually('the attempt scored', async () => {
      if ((await e2e.gateway.attempt(player, attemptId)).status !== 'SCORED') throw missing('not SCORED');
    });
    const boardBefore = await e2e.gateway.leaderboard(admin, `quiz/${quiz.id}`, 100);
    const [original] = await e2e.query<{ id: string; data: Record<string, unknown> }>(
      'quiz',
      `select id::text as id, data from "OutboxEvent" where topic = 'quiz.completed' and data->>'attemptId' = $1`,
      [attemptId],
    );
    if (!original) throw new Error('no quiz.completed in quiz outbox');
    const envelope = (id: string) => ({
      specversion: '1.0',
      id,
      source: 'quiz',
      type: eventTypeOf('quiz.completed', 1),
      datacontenttype: 'application/json',
      data: original.data,
    });

    // Redelivery (same CloudEvent id), and quiz re-sending the same attempt under a new id.
    await e2e.publishAs('quiz', 'quiz.completed', envelope(original.id));
    const resentId = randomUUID();
    await e2e.publishAs('quiz', 'quiz.completed', envelope(resentId));
    await eventually('evaluation handled both copies', async () => {
      const outcomes = [...handledLines(original.id), ...handledLines(resentId)].map((l) => String(l.outcome));
      if (outcomes.length < 3) throw missing(`outcomes so far: [${outcomes.join(', ')}]`);
    });
    expect(handledLines(original.id).map((l) => l.outcome)).toEqual(['scored', 'already-scored']);
    expect(handledLines(resentId).map((l) => l.outcome)).toEqual(['already-scored']);

    expect(
      await count('evaluation', 'select count(*)::text as n from "Result" where "attemptId" = $1::uuid', [attemptId]),
    ).toBe(1);
    expect(
      await count(
        'evaluation',
        `select count(*)::text as n from "OutboxEvent" where topic = 'score.calculated' and data->>'attemptId' = $1`,
        [attemptId],
      ),
    ).toBe(1);
    expect((await e2e.gateway.profile(player)).stats.attempts).toBe(1);
    expect(await e2e.gateway.leaderboard(admin, `quiz/${quiz.id}`, 100)).toEqual(boardBefore);
  }, 120_000);

  it('(c) dead-letters a poison completion after the retries, keeps the queue flowing, lists it for an admin, and scores it on replay after the fix', async () => {
    const poisoned = players[PLAYERS + 1] as Account;
    const flowing = players[PLAYERS + 2] as Account;
    // A completion of a quiz version evaluation has no answer key for (its quiz.published never came).
    const unknownQuizId = randomUUID();
    const questionId = randomUUID();
    const [right, wrong] = [randomUUID(), randomUUID()];
    const poisonEventId = randomUUID();
    const now = new Date();
    const completion = quizCompleted.schema.parse({
      schemaVersion: 1,
      attemptId: randomUUID(),
      quizId: unknownQuizId,
      quizVersion: 1,
      userId: poisoned.id,
      answers: [{ questionId, optionIds: [right] }],
      startedAt: new Date(now.getTime() - 60_000).toISOString(),
      submittedAt: now.toISOString(),
      deadlineAt: new Date(now.getTime() + 600_000).toISOString(),
      late: false,
    });
    await e2e.publishAs('quiz', 'quiz.completed', {
      specversion: '1.0',
      id: poisonEventId,
      source: 'quiz',
      type: eventTypeOf('quiz.completed', 1),
      datacontenttype: 'application/json',
      data: completion,
    });
    // While the poison is retried, a valid completion published after it is scored.
    const { attemptId: flowingAttempt } = await e2e.gateway.play(flowing, quiz, 3);
    await eventually('the valid completion after the poison scored', async () => {
      if ((await e2e.gateway.attempt(flowing, flowingAttempt)).status !== 'SCORED') throw missing('not SCORED');
    });

    // After the configured retries (Resiliency `delivery`: 4), the poison is on quiz.completed.deadletter:
    // evaluation keeps it for an admin, and so does quiz (which compensates from that topic).
    // An admin lists both through the gateway (/api/v1/admin/dead-letters/<app>).
    const deadLetterOf = (app: string) =>
      eventually(
        `the poison in ${app}'s dead letters, listed through the gateway`,
        async () => {
          const list = await e2e.gateway.expect(
            200,
            deadLetterListSchema,
            'GET',
            `/api/v1/admin/dead-letters/${app}?topic=quiz.completed`,
            { token: admin.token },
          );
          const found = list.items.find((d) => d.eventId === poisonEventId);
          if (!found) throw missing(`not among ${list.total} dead letters`);
          return found;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    const listed = await deadLetterOf('evaluation');
    expect(await deadLetterOf('quiz')).toMatchObject({ topic: 'quiz.completed', eventId: poisonEventId });
    const retries = e2e
      .logLines('evaluation')
      .filter((l) => l.eventId === poisonEventId && typeof l.msg === 'string' && l.msg.startsWith('no answer key'));
    expect(retries.length).toBe(5); // the first delivery and 4 retries
    // Only admins may see them.
    const asPlayer = await e2e.gateway.call('GET', '/api/v1/admin/dead-letters/evaluation', { token: poisoned.token });
    expect(asPlayer.status).toBe(403);
    expect(listed).toMatchObject({ topic: 'quiz.completed', deliveryCount: 1 });
    expect(
      await count('evaluation', 'select count(*)::text as n from "Result" where "attemptId" = $1::uuid', [
        completion.attemptId,
      ]),
    ).toBe(0);

    // The fix: the quiz version's quiz.published arrives; then the admin replays the dead letter.
    await e2e.publishAs('quiz', 'quiz.published', {
      specversion: '1.0',
      id: randomUUID(),
      source: 'quiz',
      type: eventTypeOf('quiz.published', 1),
      datacontenttype: 'application/json',
      data: quizPublished.schema.parse({
        schemaVersion: 1,
        quizId: unknownQuizId,
        version: 1,
        authorId: admin.id,
        title: 'Published late',
        difficulty: 'easy',
        timeLimitSeconds: 600,
        questionCount: 1,
        maxScore: 5,
        questions: [{ questionId, type: 'single', points: 5, optionIds: [right, wrong], correctOptionIds: [right] }],
        publishedAt: now.toISOString(),
      }),
    });
    await answerKeyKept(unknownQuizId, 1);
    const replayed = await e2e.gateway.expect(
      200,
      deadLetterReplayResultSchema,
      'POST',
      `/api/v1/admin/dead-letters/evaluation/${listed.id}/replay`,
      { token: admin.token },
    );
    expect(replayed).toMatchObject({ outcome: 'replayed', eventId: poisonEventId });

    const [result] = await eventually('the replayed completion scored', async () => {
      const rows = await e2e.query<{ score: number }>(
        'evaluation',
        'select score from "Result" where "attemptId" = $1::uuid',
        [completion.attemptId],
      );
      if (rows.length === 0) throw missing('no Result');
      return rows;
    });
    expect(Number(result?.score)).toBe(5);
    const rank = await e2e.gateway.rank(admin, `quiz/${unknownQuizId}`, poisoned.id);
    expect(rank.player).toMatchObject({ rank: 1, score: 5 });
  }, 180_000);

  it("(d) keeps scoring while quiz is down, from evaluation's own answer keys; quiz catches up when it is back", async () => {
    const player = players[PLAYERS + 3] as Account;
    // Submissions reach the broker while evaluation is away, then quiz goes down before they are scored.
    await e2e.platform.stopService('evaluation', { signal: 'SIGKILL' });
    const attemptIds = await submitMany([player], 3);
    await eventually('quiz published the three completions', async () => {
      const sent = await count(
        'quiz',
        `select count(*)::text as n from "OutboxEvent" where topic = 'quiz.completed' and "sentAt" is not null and data->>'attemptId' = any($1::text[])`,
        [attemptIds],
      );
      if (sent < 3) throw missing(`${sent} sent`);
    });
    await e2e.platform.stopService('quiz', { signal: 'SIGKILL' });
    await e2e.platform.startService('evaluation');

    for (const attemptId of attemptIds) {
      const result = await eventually(`attempt ${attemptId} scored while quiz is down`, () =>
        e2e.gateway.result(player, attemptId),
      );
      expect(result.attemptId).toBe(attemptId);
    }
    const expectedBest = Math.max(...[0, 1, 2].map((round) => scoreOf(quiz, round % (quiz.questions.length + 1))));
    const rank = await e2e.gateway.rank(admin, `quiz/${quiz.id}`, player.id);
    expect(rank.player.score).toBe(expectedBest);
    // quiz really is down: its own routes answer 503 through the gateway (the list: the gateway
    // may answer the quiz's view from what it keeps, decision 1000).
    expect((await e2e.gateway.call('GET', '/api/v1/quizzes')).status).toBe(503);

    await e2e.platform.startService('quiz');
    for (const attemptId of attemptIds) {
      await eventually(`attempt ${attemptId} SCORED once quiz is back`, async () => {
        if ((await e2e.gateway.attempt(player, attemptId)).status !== 'SCORED') throw missing('not SCORED');
      });
    }
  }, 180_000);
});
