/** Results and statistics of a player, read from the Result table. */
import type { PlayerStatistics, Result, ResultList } from '@quizmesh/contracts/evaluation-api';
import { decodeCursor, encodeCursor } from '@quizmesh/platform';
import type { Prisma, PrismaClient } from './db';

/** A Result row as read (its breakdown is only for the review). */
type ResultRow = Omit<Prisma.ResultModel, 'breakdown'>;

const percentOf = (score: number, maxScore: number) => Math.round((score / maxScore) * 10_000) / 100;
const round2 = (value: number) => Math.round(value * 100) / 100;

export function resultOf(row: ResultRow): Result {
  return {
    attemptId: row.attemptId,
    quizId: row.quizId,
    quizVersion: row.quizVersion,
    userId: row.userId,
    score: row.score,
    maxScore: row.maxScore,
    percent: percentOf(row.score, row.maxScore),
    correctCount: row.correctCount,
    questionCount: row.questionCount,
    late: row.late,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt.toISOString(),
    calculatedAt: row.calculatedAt.toISOString(),
  };
}

export class Results {
  constructor(private readonly prisma: PrismaClient) {}

  async list(userId: string, limit: number, cursor: string | undefined): Promise<ResultList> {
    const position = cursor === undefined ? undefined : decodeCursor(cursor);
    const after = position && { finishedAt: position.at, attemptId: position.id };
    const rows = await this.prisma.result.findMany({
      where: {
        userId,
        ...(after
          ? {
              OR: [
                { finishedAt: { lt: after.finishedAt } },
                { finishedAt: after.finishedAt, attemptId: { lt: after.attemptId } },
              ],
            }
          : {}),
      },
      orderBy: [{ finishedAt: 'desc' }, { attemptId: 'desc' }],
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(resultOf),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.finishedAt, id: last.attemptId }) : null,
    };
  }

  async get(attemptId: string): Promise<Result | undefined> {
    const row = await this.prisma.result.findUnique({ where: { attemptId } });
    return row ? resultOf(row) : undefined;
  }

  async statistics(userId: string): Promise<PlayerStatistics> {
    // The statistics as the database aggregates them, before rounding.
    const [row] = await this.prisma.$queryRawUnsafe<
      Array<Omit<PlayerStatistics, 'userId' | 'lastPlayedAt'> & { lastPlayedAt: Date | null }>
    >(
      `SELECT count(*)::int AS "attempts",
              max("score") AS "bestScore",
              max("score" * 100.0 / "maxScore")::float8 AS "bestPercent",
              avg("score")::float8 AS "averageScore",
              avg("score" * 100.0 / "maxScore")::float8 AS "averagePercent",
              (count(*) FILTER (WHERE "late"))::int AS "lateAttempts",
              max("finishedAt") AS "lastPlayedAt"
       FROM "Result" WHERE "userId" = $1::uuid`,
      userId,
    );
    const nullable = (value: number | null | undefined) =>
      value === null || value === undefined ? null : round2(value);
    return {
      userId,
      attempts: row?.attempts ?? 0,
      bestScore: row?.bestScore ?? null,
      bestPercent: nullable(row?.bestPercent),
      averageScore: nullable(row?.averageScore),
      averagePercent: nullable(row?.averagePercent),
      lateAttempts: row?.lateAttempts ?? 0,
      lastPlayedAt: row?.lastPlayedAt ? row.lastPlayedAt.toISOString() : null,
    };
  }
}
