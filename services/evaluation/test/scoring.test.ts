import { randomUUID } from 'node:crypto';
import { isoWeeksInYear, isoWeekSchema } from '@quizmesh/contracts/evaluation-api';
import {
  decodeBoardScore,
  encodeBoardScore,
  isoWeekOf,
  MAX_BOARD_POINTS,
  MAX_FINISHED_SECONDS,
} from '../src/leaderboard/score';
import { scoreAttempt, type KeyedQuestion } from '../src/scoring';

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(() => randomUUID()) as [string, string, string, string];
const single: KeyedQuestion = { questionId: 'q-single', type: 'single', points: 2, correctOptionIds: [b] };
const multiple: KeyedQuestion = { questionId: 'q-multi', type: 'multiple', points: 3, correctOptionIds: [a, c].sort() };
const key = [single, multiple];
const answer = (questionId: string, ...optionIds: string[]) => ({ questionId, optionIds });

describe('scoring rules', () => {
  it('single choice earns its points for exactly the correct option', () => {
    expect(scoreAttempt([single], { answers: [answer('q-single', b)], late: false })).toMatchObject({
      score: 2,
      correctCount: 1,
    });
    expect(scoreAttempt([single], { answers: [answer('q-single', a)], late: false })).toMatchObject({
      score: 0,
      correctCount: 0,
    });
    // choosing the right option and another one is not "exactly"
    expect(scoreAttempt([single], { answers: [answer('q-single', b, a)], late: false }).score).toBe(0);
  });

  it('multiple choice is all-or-nothing: every correct option and no other', () => {
    const score = (...chosen: string[]) =>
      scoreAttempt([multiple], { answers: [answer('q-multi', ...chosen)], late: false }).score;
    expect(score(a, c)).toBe(3);
    expect(score(c, a)).toBe(3); // order does not matter
    expect(score(a)).toBe(0); // partially right
    expect(score(a, c, d)).toBe(0); // every option ticked never pays
    expect(score(a, c, c)).toBe(3); // a repeated option is one choice
    expect(score()).toBe(0);
  });

  it('treats option and question ids case-insensitively (UUIDs)', () => {
    expect(scoreAttempt([multiple], { answers: [answer('Q-MULTI', a.toUpperCase(), c)], late: false }).score).toBe(3);
  });

  it('gives 0 to unanswered and twice-answered questions and ignores unknown ones', () => {
    const scored = scoreAttempt(key, {
      answers: [answer('q-multi', a, c), answer('q-multi', a, c), answer('q-unknown', a)],
      late: false,
    });
    expect(scored).toMatchObject({ score: 0, maxScore: 5, correctCount: 0, questionCount: 2 });
    expect(scored.breakdown.map((q) => q.chosen)).toEqual([null, []]);
  });

  it('adds up the questions and reports a breakdown', () => {
    const scored = scoreAttempt(key, { answers: [answer('q-single', b), answer('q-multi', a)], late: false });
    expect(scored).toMatchObject({ score: 2, maxScore: 5, correctCount: 1, questionCount: 2, late: false });
    expect(scored.breakdown).toEqual([
      { questionId: 'q-single', points: 2, chosen: [b], correct: true, earned: 2 },
      { questionId: 'q-multi', points: 3, chosen: [a], correct: false, earned: 0 },
    ]);
  });

  it('scores a late attempt 0 and still records which answers were right', () => {
    const scored = scoreAttempt(key, { answers: [answer('q-single', b), answer('q-multi', a, c)], late: true });
    expect(scored).toMatchObject({ score: 0, maxScore: 5, correctCount: 0, late: true });
    expect(scored.breakdown.map((q) => [q.correct, q.earned])).toEqual([
      [true, 0],
      [true, 0],
    ]);
  });
});

describe('composite board score', () => {
  const t = new Date('2026-11-18T12:00:30Z');

  it('round-trips score and finishing second', () => {
    expect(decodeBoardScore(encodeBoardScore(42, t))).toEqual({ score: 42, finishedAt: t });
    expect(decodeBoardScore(encodeBoardScore(0, new Date(0)))).toEqual({ score: 0, finishedAt: new Date(0) });
    const last = new Date(MAX_FINISHED_SECONDS * 1000);
    expect(decodeBoardScore(encodeBoardScore(MAX_BOARD_POINTS, last))).toEqual({
      score: MAX_BOARD_POINTS,
      finishedAt: last,
    });
  });

  it('orders by score, then by the earlier finish, and drops sub-second precision', () => {
    expect(encodeBoardScore(6, t)).toBeGreaterThan(encodeBoardScore(5, new Date('2020-01-01T00:00:00Z')));
    expect(encodeBoardScore(5, new Date('2026-11-18T12:00:29Z'))).toBeGreaterThan(encodeBoardScore(5, t));
    expect(encodeBoardScore(5, new Date('2026-11-18T12:00:30.900Z'))).toBe(encodeBoardScore(5, t));
  });

  it('stays an exact integer in a double at the extremes (below 2^53)', () => {
    const top = encodeBoardScore(MAX_BOARD_POINTS, new Date(0));
    expect(top).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(Number.isSafeInteger(top)).toBe(true);
    expect(MAX_BOARD_POINTS).toBe(2_097_151);
  });

  it('clamps scores above the range to the maximum and refuses negative or fractional ones', () => {
    expect(encodeBoardScore(MAX_BOARD_POINTS + 10, t)).toBe(encodeBoardScore(MAX_BOARD_POINTS, t));
    expect(() => encodeBoardScore(-1, t)).toThrow(RangeError);
    expect(() => encodeBoardScore(1.5, t)).toThrow(RangeError);
    expect(() => encodeBoardScore(1, new Date('2200-01-01T00:00:00Z'))).toThrow(RangeError);
  });
});

describe('ISO weeks', () => {
  it.each([
    ['2026-11-18T12:00:30Z', '2026-W47'],
    ['2026-11-16T00:00:00Z', '2026-W47'], // Monday starts the week
    ['2026-11-22T23:59:59Z', '2026-W47'], // Sunday ends it
    ['2026-11-23T00:00:00Z', '2026-W48'],
    ['2027-01-01T10:00:00Z', '2026-W53'], // 2026 starts on a Thursday: a long year
    ['2024-12-30T10:00:00Z', '2025-W01'], // belongs to the year of its Thursday
    ['2021-01-03T10:00:00Z', '2020-W53'],
    ['2026-01-01T00:00:00Z', '2026-W01'],
  ])('%s is in %s (UTC)', (iso, week) => {
    expect(isoWeekOf(new Date(iso))).toBe(week);
  });

  it('validates week parameters, week 53 only in long years', () => {
    expect(isoWeeksInYear(2026)).toBe(53);
    expect(isoWeeksInYear(2025)).toBe(52);
    expect(isoWeekSchema.safeParse('2026-W53').success).toBe(true);
    expect(isoWeekSchema.safeParse('2025-W53').success).toBe(false);
    for (const bad of ['2026-W00', '2026-W54', '2026-47', '2026-w47', '26-W47', '2026-W7']) {
      expect(isoWeekSchema.safeParse(bad).success).toBe(false);
    }
  });
});
