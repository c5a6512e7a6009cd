/**
 * Leaderboards over the store (Redis or in-process) and their durable copy in PostgreSQL
 * (BoardEntry). Writes: BoardEntry raised inside the scoring statement (consumers.ts), then the store's
 * `record(storeUpdatesOf(…))` after commit. Reads: pages and ranks from the store, display names from the
 * Player table. `rebuildBoards` refills the store from BoardEntry (start of an in-process run,
 * or an emptied Redis).
 */
import type { Logger } from 'pino';
import type { Board, LeaderboardEntry, LeaderboardPage, PlayerRank } from '@quizmesh/contracts/evaluation-api';
import { boardKey, boardsOf, decodeBoardScore, encodeBoardScore, MAX_BOARD_POINTS, type BoardRef } from './score';
import type { LeaderboardStore, RankedMember } from './store';
import type { PrismaClient, Tx } from '../db';

export function boardOf(ref: BoardRef): Board {
  switch (ref.kind) {
    case 'global':
      return { kind: 'global' };
    case 'quiz':
      return { kind: 'quiz', quizId: ref.quizId };
    case 'weekly':
      return { kind: 'weekly', isoWeek: ref.isoWeek };
  }
}

/** What a ranked attempt writes to every board it enters. */
export interface RankedAttempt {
  attemptId: string;
  quizId: string;
  userId: string;
  score: number;
  finishedAt: Date;
}

export function boardScoreOf(attempt: Pick<RankedAttempt, 'score' | 'finishedAt'>, logger?: Logger): number {
  if (attempt.score > MAX_BOARD_POINTS) {
    logger?.warn(
      { score: attempt.score, max: MAX_BOARD_POINTS },
      'score above the leaderboard range: ranked as the maximum',
    );
  }
  return encodeBoardScore(attempt.score, attempt.finishedAt);
}

/** Whether fewer than `depth` players rank above this entry (the change is visible in the top `depth`). */
export async function ranksWithin(
  tx: Tx,
  board: string,
  userId: string,
  boardScore: number,
  depth: number,
): Promise<boolean> {
  const [row] = await tx.$queryRawUnsafe<Array<{ above: number }>>(
    `SELECT count(*)::int AS "above" FROM (
       SELECT 1 FROM "BoardEntry"
       WHERE "board" = $1 AND ("boardScore" > $2::bigint OR ("boardScore" = $2::bigint AND "userId" > $3::uuid))
       LIMIT $4::int) AS better`,
    board,
    String(boardScore),
    userId,
    depth,
  );
  return (row?.above ?? depth) < depth;
}

/** The top `limit` of a board from BoardEntry, with names: what leaderboard.updated carries. */
export async function topFromDatabase(tx: Tx, board: string, limit: number): Promise<LeaderboardEntry[]> {
  const rows = await tx.$queryRawUnsafe<Array<{ userId: string; boardScore: string; displayName: string | null }>>(
    `SELECT e."userId"::text AS "userId", e."boardScore"::text AS "boardScore", p."displayName"
     FROM "BoardEntry" e LEFT JOIN "Player" p ON p."userId" = e."userId"
     WHERE e."board" = $1
     ORDER BY e."boardScore" DESC, e."userId" DESC
     LIMIT $2::int`,
    board,
    limit,
  );
  return rows.map((row, i) =>
    entryOf({ rank: i + 1, userId: row.userId, boardScore: Number(row.boardScore) }, row.displayName),
  );
}

function entryOf(member: RankedMember, displayName: string | null): LeaderboardEntry {
  const { score, finishedAt } = decodeBoardScore(member.boardScore);
  return { rank: member.rank, userId: member.userId, displayName, score, finishedAt: finishedAt.toISOString() };
}

/** The store updates of a ranked attempt (idempotent: GT semantics). */
export function storeUpdatesOf(attempt: RankedAttempt, boardScore: number) {
  return boardsOf(attempt.quizId, attempt.finishedAt).map((ref) => ({
    board: boardKey(ref),
    userId: attempt.userId,
    boardScore,
  }));
}

export class Leaderboards {
  constructor(
    private readonly prisma: PrismaClient,
    readonly store: LeaderboardStore,
  ) {}

  private async names(userIds: readonly string[]): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const players = await this.prisma.player.findMany({
      where: { userId: { in: [...new Set(userIds)] } },
      select: { userId: true, displayName: true },
    });
    return new Map(players.map((p) => [p.userId, p.displayName]));
  }

  async page(ref: BoardRef, offset: number, limit: number): Promise<LeaderboardPage> {
    const { total, entries } = await this.store.top(boardKey(ref), offset, limit);
    const names = await this.names(entries.map((e) => e.userId));
    return {
      board: boardOf(ref),
      totalPlayers: total,
      entries: entries.map((e) => entryOf(e, names.get(e.userId) ?? null)),
    };
  }

  /** undefined: the player has no ranked attempt on this board. */
  async rank(ref: BoardRef, userId: string, radius: number): Promise<PlayerRank | undefined> {
    const found = await this.store.around(boardKey(ref), userId, radius);
    if (!found) return undefined;
    const names = await this.names(found.entries.map((e) => e.userId));
    const entry = (m: RankedMember) => entryOf(m, names.get(m.userId) ?? null);
    return {
      board: boardOf(ref),
      totalPlayers: found.total,
      player: entry(found.player),
      around: found.entries.map(entry),
    };
  }
}

/**
 * Refills the store from BoardEntry, a page of rows at a time. Safe while events are being
 * scored: the store keeps the higher score, so a row read before a concurrent raise cannot
 * lower it. Returns the number of entries written.
 */
export async function rebuildBoards(prisma: PrismaClient, store: LeaderboardStore, pageSize = 5_000): Promise<number> {
  let written = 0;
  let after: { board: string; userId: string } | undefined;
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<Array<{ board: string; userId: string; boardScore: string }>>(
      `SELECT "board", "userId"::text AS "userId", "boardScore"::text AS "boardScore" FROM "BoardEntry"
       WHERE ($1::text IS NULL OR ("board", "userId") > ($1::text, $2::uuid))
       ORDER BY "board", "userId" LIMIT $3::int`,
      after?.board ?? null,
      after?.userId ?? null,
      pageSize,
    );
    if (rows.length === 0) return written;
    await store.record(rows.map((r) => ({ board: r.board, userId: r.userId, boardScore: Number(r.boardScore) })));
    written += rows.length;
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) return written;
    after = { board: last.board, userId: last.userId };
  }
}
