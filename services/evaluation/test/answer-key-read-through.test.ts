/**
 * A version whose quiz.published never reached evaluation (decision 1080): scoring reads it from
 * the real quiz service (its harness: PostgreSQL, its own sidecar in the registry evaluation's
 * sidecar shares), stores it as the event would have been stored, and scores. Quiz without that
 * version, or quiz not running at all: RETRY, as before the read existed.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { quizPublished, type QuizCompleted, type QuizPublished } from '@quizmesh/contracts/events';
import { authorQuizSchema, type AuthorQuiz } from '@quizmesh/contracts/quiz-api';
import { eventually } from '@quizmesh/platform/testing';
import { as, newUser, quizBody, startQuiz, type QuizUnderTest } from '../../quiz/test/harness';
import { startEvaluation, type EvaluationUnderTest } from './harness';

const READ_THROUGH = 'answer key read through from quiz (quiz.published not received)';

let quiz: QuizUnderTest;
let evaluation: EvaluationUnderTest;
const author = newUser('player', 'author');

beforeAll(async () => {
  quiz = await startQuiz({ backend: 'postgres' });
  evaluation = await startEvaluation({ backend: 'postgres+redis', registryDir: quiz.registryDir });
});
afterAll(async () => {
  await evaluation?.stop();
  await quiz?.stop();
});

/** Publishes a quiz on the quiz service; answers it and the quiz.published it carried (to quiz's test subscriber only). */
async function publishOnQuiz(title: string): Promise<{ authored: AuthorQuiz; event: QuizPublished }> {
  const created = await request(quiz.url).post('/api/v1/quizzes').set(as(author)).send(quizBody({ title }, 3));
  expect(created.status).toBe(201);
  const id = authorQuizSchema.parse(created.body).id;
  const published = await request(quiz.url).post(`/api/v1/quizzes/${id}/publish`).set(as(author));
  expect(published.status).toBe(200);
  const authored = authorQuizSchema.parse(published.body);
  await eventually(() => quiz.published.some((p) => p.topic === quizPublished.topic && p.event.data.quizId === id));
  const found = quiz.published.find((p) => p.topic === quizPublished.topic && p.event.data.quizId === id);
  return { authored, event: quizPublished.schema.parse(found?.event.data) };
}

/** An attempt answering the first `right` questions correctly (quizBody: question i is worth i + 1 points). */
function completion(authored: AuthorQuiz, right: number, version = authored.version): QuizCompleted {
  const submittedAt = new Date();
  return {
    schemaVersion: 1,
    attemptId: randomUUID(),
    quizId: authored.id,
    quizVersion: version,
    userId: randomUUID(),
    answers: authored.questions.map((q, i) => ({
      questionId: q.id,
      optionIds: [(i < right ? q.options.find((o) => o.correct) : q.options.find((o) => !o.correct))?.id ?? ''],
    })),
    startedAt: new Date(submittedAt.getTime() - 30_000).toISOString(),
    submittedAt: submittedAt.toISOString(),
    deadlineAt: new Date(submittedAt.getTime() + 270_000).toISOString(),
    late: false,
  };
}

const storedKey = (quizId: string, version: number) =>
  evaluation.prisma.answerKey.findUnique({
    where: { quizId_version: { quizId, version } },
    select: { quizId: true, version: true, title: true, maxScore: true, questions: true, publishedAt: true },
  });

const logged = (under: EvaluationUnderTest, msg: string) =>
  under.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === msg);

describe('scoring a version whose quiz.published never arrived', () => {
  it('reads the key from quiz once for concurrent attempts, stores what quiz.published would have, and scores them', async () => {
    const { authored, event } = await publishOnQuiz('Read through');
    expect(await storedKey(authored.id, 1)).toBeNull();

    const attempts = [completion(authored, 3), completion(authored, 2), completion(authored, 0)];
    const outcomes = await Promise.all(attempts.map((a) => evaluation.deliver('quiz.completed', a)));
    expect(outcomes).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const results = await evaluation.prisma.result.findMany({
      where: { attemptId: { in: attempts.map((a) => a.attemptId) } },
      select: { attemptId: true, score: true, maxScore: true },
    });
    expect(results.sort((a, b) => b.score - a.score)).toEqual([
      { attemptId: attempts[0]?.attemptId, score: 6, maxScore: 6 },
      { attemptId: attempts[1]?.attemptId, score: 3, maxScore: 6 },
      { attemptId: attempts[2]?.attemptId, score: 0, maxScore: 6 },
    ]);
    // One copy stored (first wins); any later read found it stored.
    const reads = logged(evaluation, READ_THROUGH).filter((l) => l.quizId === authored.id);
    expect(reads.filter((l) => l.stored === true)).toHaveLength(1);

    // The same row as the quiz.published consumer stores from the event quiz published.
    const readThrough = await storedKey(authored.id, 1);
    await evaluation.prisma.answerKey.delete({ where: { quizId_version: { quizId: authored.id, version: 1 } } });
    await expect(evaluation.deliver('quiz.published', event)).resolves.toBe('SUCCESS');
    expect(readThrough).toEqual(await storedKey(authored.id, 1));
  });

  it('keeps the key quiz.published brought and reads nothing from quiz when it did arrive', async () => {
    const { authored, event } = await publishOnQuiz('Delivered');
    await expect(evaluation.deliver('quiz.published', event)).resolves.toBe('SUCCESS');
    await expect(evaluation.deliver('quiz.completed', completion(authored, 3))).resolves.toBe('SUCCESS');
    expect(logged(evaluation, READ_THROUGH).filter((l) => l.quizId === authored.id)).toEqual([]);
  });

  it('answers RETRY, storing nothing, for a version quiz never published', async () => {
    const { authored } = await publishOnQuiz('Only version 1');
    const attempt = completion(authored, 3, 2);
    await expect(evaluation.deliver('quiz.completed', attempt)).resolves.toBe('RETRY');
    expect(await storedKey(authored.id, 2)).toBeNull();
    expect(await evaluation.prisma.result.count({ where: { attemptId: attempt.attemptId } })).toBe(0);
    expect(
      logged(evaluation, 'quiz has no published version to read the answer key from').filter(
        (l) => l.quizId === authored.id,
      ),
    ).toHaveLength(1);
  });

  it('answers RETRY when quiz is not running, and scores the redelivery once quiz.published is there', async () => {
    const { authored, event } = await publishOnQuiz('Quiz away');
    // An evaluation whose sidecar finds no quiz app (its own registry): quiz down, as seen from it.
    const alone = await startEvaluation({ backend: 'postgres+redis' });
    try {
      const attempt = completion(authored, 1);
      await expect(alone.deliver('quiz.completed', attempt)).resolves.toBe('RETRY');
      expect(logged(alone, 'reading the answer key from quiz failed')).toHaveLength(1);
      expect(await alone.prisma.result.count()).toBe(0);
      await expect(alone.deliver('quiz.published', event)).resolves.toBe('SUCCESS');
      await expect(alone.deliver('quiz.completed', attempt)).resolves.toBe('SUCCESS');
      expect(await alone.prisma.result.findUnique({ where: { attemptId: attempt.attemptId } })).toMatchObject({
        score: 1,
        maxScore: 6,
      });
    } finally {
      await alone.stop();
    }
  });
});
