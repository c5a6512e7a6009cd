import { z } from 'zod';
import {
  EVENTS,
  LEADERBOARD_UPDATED_MAX_BOARDS,
  leaderboardBoardUpdatesOf,
  leaderboardUpdated,
  leaderboardUpdatedV1,
  leaderboardUpdatedV1OrV2,
  scoreCalculated,
  TOPICS,
  userRegistered,
} from '@quizmesh/contracts/events';

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

describe('leaderboard.updated', () => {
  const top = [{ rank: 1, userId: score.userId, displayName: 'Ada', score: 5, finishedAt: score.finishedAt }];
  const change = {
    schemaVersion: 2,
    boards: [
      { board: 'global', top },
      { board: 'quiz', quizId: score.quizId, top },
      { board: 'weekly', period: '2026-W47', top },
    ],
    updatedAt: score.calculatedAt,
  };

  it('publishes version 2, one event naming every board of a change', () => {
    expect(leaderboardUpdated.type).toBe('dev.quizmesh.leaderboard.updated.v2');
    expect(leaderboardUpdatedV1.type).toBe('dev.quizmesh.leaderboard.updated.v1');
    expect(leaderboardUpdated.schema.parse(change)).toEqual(change);
  });

  it.each([
    ['no board', { boards: [] }, 'boards'],
    ['a board twice', { boards: [...change.boards, change.boards[0]] }, 'boards.3'],
    ['a quiz board twice', { boards: [change.boards[1], { ...change.boards[1], top: [] }] }, 'boards.1'],
    ['a quiz board without its quiz', { boards: [{ board: 'quiz', top }] }, 'boards.0.quizId'],
    ['a weekly board without its week', { boards: [{ board: 'weekly', top }] }, 'boards.0.period'],
    [
      `more than ${LEADERBOARD_UPDATED_MAX_BOARDS} boards`,
      {
        boards: Array.from({ length: LEADERBOARD_UPDATED_MAX_BOARDS + 1 }, (_, i) => ({
          board: 'quiz',
          quizId: `20000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          top,
        })),
      },
      'boards',
    ],
    ['version 1', { schemaVersion: 1 }, 'schemaVersion'],
  ])('rejects %s in version 2', (_name, changed, field) => {
    const result = leaderboardUpdated.schema.safeParse({ ...change, ...changed });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('lets consumers take either version, each board as the version-1 payload', () => {
    const v1 = { schemaVersion: 1, board: 'quiz', quizId: score.quizId, top, updatedAt: score.calculatedAt };
    expect(leaderboardBoardUpdatesOf(leaderboardUpdatedV1OrV2.parse(v1))).toEqual([v1]);
    const boards = leaderboardBoardUpdatesOf(leaderboardUpdatedV1OrV2.parse(change));
    expect(boards).toEqual([
      { schemaVersion: 1, board: 'global', top, updatedAt: score.calculatedAt },
      { schemaVersion: 1, board: 'quiz', quizId: score.quizId, top, updatedAt: score.calculatedAt },
      { schemaVersion: 1, board: 'weekly', period: '2026-W47', top, updatedAt: score.calculatedAt },
    ]);
    for (const board of boards) expect(leaderboardUpdatedV1.schema.parse(board)).toEqual(board);
    expect(leaderboardUpdatedV1OrV2.safeParse({ ...change, schemaVersion: 3 }).success).toBe(false);
    expect(leaderboardUpdatedV1OrV2.safeParse({ ...change, boards: [] }).success).toBe(false);
  });
});
