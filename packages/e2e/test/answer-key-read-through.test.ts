/**
 * A quiz version whose quiz.published evaluation does not have (as when the event left quiz before
 * evaluation's queue existed, on a first Kubernetes install: docs/operator.md) is still scored,
 * through the gateway, on real PostgreSQL, Redis and RabbitMQ: evaluation reads the version's
 * quiz.published from quiz by service invocation (decision 1080). Twice: with components/ (the
 * local access control) and with the chart's Dapr resources (its per-app Configurations), so
 * both must let evaluation make that call.
 *
 * "Never arrived" is made by deleting the key evaluation stored from the event before any attempt
 * was scored: evaluation then holds exactly what it holds when the event never came (no row, and
 * nothing in its in-process cache, which only fills when scoring reads a stored key).
 */
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

const READ_THROUGH = 'answer key read through from quiz (quiz.published not received)';

describe.each([['components' as const], ['chart' as const]])(
  'scoring without quiz.published, Dapr resources from %s',
  (daprResources) => {
    let e2e: E2EPlatform;
    let player: Account;
    let quiz: AuthorQuiz;

    const answerKeyRows = () =>
      e2e.query('evaluation', 'select 1 from "AnswerKey" where "quizId" = $1::uuid and "version" = $2', [
        quiz.id,
        quiz.version,
      ]);

    beforeAll(async () => {
      e2e = await startE2EPlatform({ backends: 'local', daprResources });
      const cast = await createCast(e2e.gateway, 1, `keys-${daprResources}`);
      player = cast.players[0] as Account;
      quiz = await e2e.gateway.publishQuiz(cast.author, quizBody('Read through'));
      await eventually(`evaluation keeps the answer key of ${quiz.id}`, async () => {
        if ((await answerKeyRows()).length === 0) throw missing('no AnswerKey row');
      });
      await e2e.query('evaluation', 'delete from "AnswerKey" where "quizId" = $1::uuid', [quiz.id]);
    }, 300_000);

    afterAll(() => e2e?.stop(), 120_000);

    it("scores the attempt with the right score, reading the version's key from quiz", async () => {
      const correct = 2;
      const { attemptId } = await e2e.gateway.play(player, quiz, correct);
      await eventually(
        'the attempt SCORED',
        async () => {
          const { status } = await e2e.gateway.attempt(player, attemptId);
          // Before the read-through: RETRY until dead-lettered, then quiz compensates (FAILED).
          if (status === 'FAILED') throw new Error('the attempt FAILED: evaluation never got its answer key');
          if (status !== 'SCORED') throw missing(`status ${status}`);
        },
        { timeoutMs: 45_000 },
      );
      expect(await e2e.gateway.result(player, attemptId)).toMatchObject({
        attemptId,
        score: scoreOf(quiz, correct),
        maxScore: scoreOf(quiz, quiz.questions.length),
      });
      const reads = e2e.logLines('evaluation').filter((l) => l.msg === READ_THROUGH && l.quizId === quiz.id);
      expect(reads).toEqual([expect.objectContaining({ quizId: quiz.id, version: quiz.version, stored: true })]);
      expect(await answerKeyRows()).toHaveLength(1);
    }, 90_000);
  },
);
