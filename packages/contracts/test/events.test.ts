import { z } from 'zod';
import { EVENTS, scoreCalculated, TOPICS, userRegistered } from '@quizmesh/contracts/events';

const score = {
  schemaVersion: 1,
  attemptId: '10000000-0000-4000-8000-000000000001',
  quizId: '20000000-0000-4000-8000-000000000001',
  userId: '30000000-0000-4000-8000-000000000001',
  score: 7.5,
  maxScore: 10,
  correctCount: 7,
  questionCount: 10,
  finishedAt: '2026-11-21T10:00:00.000Z',
  calculatedAt: '2026-11-21T10:00:01Z',
};

describe('event contracts', () => {
  it('covers every topic of the architecture with a versioned type and a dead-letter topic', () => {
    expect(EVENTS.map((e) => e.topic).sort()).toEqual(Object.values(TOPICS).sort());
    for (const event of EVENTS) {
      expect(event.type).toBe(`dev.quizmesh.${event.topic}.v${event.schemaVersion}`);
      expect(event.deadLetterTopic).toBe(`${event.topic}.deadletter`);
      expect(() => z.toJSONSchema(event.schema, { io: 'input' })).not.toThrow();
    }
  });

  it('accepts a complete score.calculated and strips unknown (newer) fields', () => {
    const parsed = scoreCalculated.schema.parse({ ...score, addedInAMinorRelease: true });
    expect(parsed).toEqual(score);
  });

  it.each([
    ['score above maxScore', { score: 11 }, 'score'],
    ['more correct answers than questions', { correctCount: 11 }, 'correctCount'],
    ['a missing attempt id', { attemptId: undefined }, 'attemptId'],
    ['a non-UUID quiz id', { quizId: 'quiz-1' }, 'quizId'],
    ['another schema version', { schemaVersion: 2 }, 'schemaVersion'],
    ['a time without zone', { finishedAt: '2026-11-21 10:00' }, 'finishedAt'],
  ])('rejects %s', (_name, change, field) => {
    const result = scoreCalculated.schema.safeParse({ ...score, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('requires a role list and an email in user.registered', () => {
    const result = userRegistered.schema.safeParse({
      schemaVersion: 1,
      userId: score.userId,
      email: 'nope',
      displayName: 'Ada',
      roles: [],
      registeredAt: score.finishedAt,
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['email', 'roles']);
  });
});
