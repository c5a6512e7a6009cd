/**
 * Events leave through the outbox in the transaction of the change they announce: when that
 * transaction fails at any point — before or after the event row is written — neither the
 * change nor the event exists. Failures are injected with PostgreSQL triggers, so the code
 * under test is exactly the production code.
 */
import request from 'supertest';
import { quizCompleted, quizPublished } from '@quizmesh/contracts/events';
import { authorQuizSchema, startAttemptResponseSchema } from '@quizmesh/contracts/quiz-api';
import { as, newUser, quizBody, startQuiz, type QuizUnderTest } from './harness';

describe('quiz outbox atomicity', () => {
  let quiz: QuizUnderTest;
  const author = newUser('author');

  beforeAll(async () => {
    quiz = await startQuiz();
    await quiz.prisma.$executeRawUnsafe(
      `CREATE FUNCTION test_injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
    );
  });
  afterAll(async () => {
    await quiz?.stop();
  });

  async function withFailingTrigger(table: string, when: string, run: () => Promise<void>) {
    await quiz.prisma.$executeRawUnsafe(
      `CREATE TRIGGER test_fail BEFORE INSERT OR UPDATE ON "${table}" FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION test_injected_failure()`,
    );
    try {
      await run();
    } finally {
      await quiz.prisma.$executeRawUnsafe(`DROP TRIGGER test_fail ON "${table}"`);
    }
  }

  const outboxRows = (topic: string, key: string, value: string) =>
    quiz.prisma.outboxEvent.count({ where: { topic, data: { path: [key], equals: value } } });

  async function draft() {
    const res = await request(quiz.url).post('/api/v1/quizzes').set(as(author)).send(quizBody());
    return authorQuizSchema.parse(res.body);
  }

  function expectInternalError(res: request.Response) {
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(res.body)).not.toContain('injected failure');
  }

  it.each([
    ['writing the event fails', 'OutboxEvent', `NEW."topic" = 'quiz.published'`],
    ['the last change after the event fails', 'Quiz', `NEW."status" = 'published'`],
  ])('publishing leaves the quiz a draft and no quiz.published when %s', async (_name, table, when) => {
    const { id } = await draft();
    await withFailingTrigger(table, when, async () => {
      expectInternalError(await request(quiz.url).post(`/api/v1/quizzes/${id}/publish`).set(as(author)));
    });
    expect(await quiz.prisma.quiz.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'draft',
      publishedVersion: null,
      draftVersion: 1,
    });
    expect(await quiz.prisma.quizVersion.findFirstOrThrow({ where: { quizId: id } })).toMatchObject({
      status: 'draft',
      publishedAt: null,
    });
    expect(await outboxRows(quizPublished.topic, 'quizId', id)).toBe(0);

    // Nothing was half-done: the same request succeeds once the fault is gone, with exactly one event.
    expect((await request(quiz.url).post(`/api/v1/quizzes/${id}/publish`).set(as(author))).status).toBe(200);
    expect(await outboxRows(quizPublished.topic, 'quizId', id)).toBe(1);
  });

  it.each([
    ['writing the event fails', 'OutboxEvent', `NEW."topic" = 'quiz.completed'`],
    ['recording the transition after the event fails', 'AttemptTransition', `NEW."toStatus" = 'SUBMITTED'`],
  ])('submitting leaves the attempt open and no quiz.completed when %s', async (_name, table, when) => {
    const { id } = await draft();
    await request(quiz.url).post(`/api/v1/quizzes/${id}/publish`).set(as(author)).expect(200);
    const player = newUser('player');
    const started = await request(quiz.url).post(`/api/v1/quizzes/${id}/attempts`).set(as(player));
    const attemptId = startAttemptResponseSchema.parse(started.body).attempt.id;

    await withFailingTrigger(table, when, async () => {
      expectInternalError(
        await request(quiz.url).post(`/api/v1/attempts/${attemptId}/submit`).set(as(player)).send({ answers: [] }),
      );
    });
    expect(await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attemptId } })).toMatchObject({
      status: 'IN_PROGRESS',
      submittedAt: null,
      answers: null,
    });
    expect(await quiz.prisma.attemptTransition.count({ where: { attemptId } })).toBe(1);
    expect(await outboxRows(quizCompleted.topic, 'attemptId', attemptId)).toBe(0);

    expect(
      (await request(quiz.url).post(`/api/v1/attempts/${attemptId}/submit`).set(as(player)).send({ answers: [] }))
        .status,
    ).toBe(202);
    expect(await outboxRows(quizCompleted.topic, 'attemptId', attemptId)).toBe(1);
  });
});
