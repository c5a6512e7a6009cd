/**
 * Leaderboard ordering in one number, so a sorted set (Redis or in-process) ranks by it alone:
 *
 *   boardScore = score · 2^32 + (2^32 − 1 − finishedAt in Unix seconds)
 *
 * A higher score always wins; at equal scores the earlier finish has the larger remainder and
 * wins. Equal scores finished in the same second tie on boardScore, and the sorted set orders
 * them by member (Redis' reverse ranges: the greater user id first; the in-process board and
 * the SQL copy do the same).
 *
 * Precision: Redis scores are IEEE doubles, exact for integers up to 2^53. 32 bits of seconds
 * reach 2106-02-07; the remaining 21 bits hold scores up to 2^21 − 1 = 2,097,151 points. A
 * larger score is clamped to that (and logged): it still ranks first, its ties are then by time.
 * Sub-second finishing order is not kept. See docs/decisions/0551-leaderboard-composite-score.md.
 */
export const TIME_BITS = 32;
/** 2^TIME_BITS: boardScore = points · BOARD_TIME_SPAN + (BOARD_TIME_SPAN − 1 − seconds); also decoded in SQL (consumers.ts) */
export const BOARD_TIME_SPAN = 2 ** TIME_BITS;
const TIME_SPAN = BOARD_TIME_SPAN;
export const MAX_BOARD_POINTS = 2 ** (53 - TIME_BITS) - 1;
/** Last second representable: 2106-02-07T06:28:15Z. */
export const MAX_FINISHED_SECONDS = TIME_SPAN - 1;

export interface BoardScoreParts {
  score: number;
  finishedAt: Date;
}

export function encodeBoardScore(score: number, finishedAt: Date): number {
  if (!Number.isInteger(score) || score < 0) throw new RangeError(`board scores are whole points ≥ 0, got ${score}`);
  const seconds = Math.floor(finishedAt.getTime() / 1000);
  if (!(seconds >= 0 && seconds <= MAX_FINISHED_SECONDS)) {
    throw new RangeError(`finishedAt ${finishedAt.toISOString()} is outside 1970..2106`);
  }
  return Math.min(score, MAX_BOARD_POINTS) * TIME_SPAN + (MAX_FINISHED_SECONDS - seconds);
}

export function decodeBoardScore(boardScore: number): BoardScoreParts {
  const score = Math.floor(boardScore / TIME_SPAN);
  const seconds = MAX_FINISHED_SECONDS - (boardScore - score * TIME_SPAN);
  return { score, finishedAt: new Date(seconds * 1000) };
}

/** ISO 8601 week of `date` in UTC, e.g. `2026-W47` (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeekOf(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  // The Thursday of this week decides the year the week belongs to.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The boards one ranked attempt enters. */
export type BoardRef = { kind: 'global' } | { kind: 'quiz'; quizId: string } | { kind: 'weekly'; isoWeek: string };

export function boardKey(board: BoardRef): string {
  switch (board.kind) {
    case 'global':
      return 'global';
    case 'quiz':
      return `quiz:${board.quizId}`;
    case 'weekly':
      return `weekly:${board.isoWeek}`;
  }
}

/** The board a key names (the inverse of boardKey). */
export function boardRefOf(key: string): BoardRef {
  if (key === 'global') return { kind: 'global' };
  if (key.startsWith('quiz:')) return { kind: 'quiz', quizId: key.slice('quiz:'.length) };
  if (key.startsWith('weekly:')) return { kind: 'weekly', isoWeek: key.slice('weekly:'.length) };
  throw new Error(`not a board key: ${key}`);
}

export function boardsOf(quizId: string, finishedAt: Date): BoardRef[] {
  return [{ kind: 'global' }, { kind: 'quiz', quizId }, { kind: 'weekly', isoWeek: isoWeekOf(finishedAt) }];
}
