/**
 * quiz's contracts: the player schemas keep
 * answer keys out, and the event contracts refuse inconsistent payloads.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { quizCompleted, quizPublished } from '@quizmesh/contracts/events';
import { playerQuizSchema, startAttemptResponseSchema } from '@quizmesh/contracts/quiz-api';

describe('quiz API contract', () => {
  it('has no answer key or explanation anywhere in the player schemas, and rejects one that slipped in', () => {
    for (const schema of [playerQuizSchema, startAttemptResponseSchema]) {
      const json = JSON.stringify(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }));
      // as property names (the descriptions may say "no explanations")
      expect(json).not.toMatch(/"correct":/);
      expect(json).not.toMatch(/"explanation":/);
    }
    const question = {
      id: randomUUID(),
      type: 'single',
      text: 'Q?',
      points: 1,
      options: [{ id: randomUUID(), text: 'A', correct: true }],
    };
    const view = {
      id: randomUUID(),
      version: 1,
      title: 't',
      description: '',
      tags: [],
      difficulty: 'easy',
      timeLimitSeconds: 60,
      questionCount: 1,
      maxScore: 1,
      authorId: randomUUID(),
      status: 'published',
      versionStatus: 'published',
      publishedAt: new Date().toISOString(),
      questions: [question],
      leaderboard: null,
    };
    expect(playerQuizSchema.safeParse(view).success).toBe(false);
  });
});

describe('quiz event contracts', () => {
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const published = {
    schemaVersion: 1,
    quizId: randomUUID(),
    version: 2,
    supersedesVersion: 1,
    authorId: randomUUID(),
    title: 'Planets',
    difficulty: 'easy',
    timeLimitSeconds: 60,
    questionCount: 1,
    maxScore: 3,
    questions: [{ questionId: randomUUID(), type: 'single', points: 3, optionIds: [a, b], correctOptionIds: [a] }],
    publishedAt: '2026-11-21T10:00:00.000Z',
  };

  it('accepts a consistent quiz.published', () => {
    expect(quizPublished.schema.safeParse(published).success).toBe(true);
  });

  it.each([
    ['a question count that is not the number of questions', { questionCount: 2 }, 'questionCount'],
    ['a max score that is not the sum of the points', { maxScore: 4 }, 'maxScore'],
    [
      'a correct option that is not an option',
      { questions: [{ ...published.questions[0], correctOptionIds: [c] }] },
      'questions.0.correctOptionIds',
    ],
    [
      'two correct options on a single-choice question',
      { questions: [{ ...published.questions[0], correctOptionIds: [a, b] }] },
      'questions.0.correctOptionIds',
    ],
    ['no questions', { questions: [], questionCount: 0 }, 'questions'],
  ])('rejects quiz.published with %s', (_name, change, path) => {
    const result = quizPublished.schema.safeParse({ ...published, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('requires the deadline and the late flag in quiz.completed', () => {
    const completed = {
      schemaVersion: 1,
      attemptId: randomUUID(),
      quizId: randomUUID(),
      quizVersion: 1,
      userId: randomUUID(),
      answers: [{ questionId: randomUUID(), optionIds: [a] }],
      startedAt: '2026-11-21T10:00:00.000Z',
      submittedAt: '2026-11-21T10:01:00.000Z',
      deadlineAt: '2026-11-21T10:01:00.000Z',
      late: false,
    };
    expect(quizCompleted.schema.safeParse(completed).success).toBe(true);
    const { late: _late, deadlineAt: _deadline, ...older } = completed;
    expect(
      quizCompleted.schema
        .safeParse(older)
        .error?.issues.map((i) => i.path.join('.'))
        .sort(),
    ).toEqual(['deadlineAt', 'late']);
  });
});
