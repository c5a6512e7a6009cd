/**
 * In-process leaderboards for the embedded default: per board, a red-black tree with
 * order statistics (data-structure-typed's RedBlackTree with `enableOrderStatistic`: subtree
 * sizes give rank and position lookups in O(log n)) plus a map from player to their current
 * key, so raising a score is delete + insert. Lost on restart: the service rebuilds it from the
 * BoardEntry table at start (leaderboards.ts). Single process only; replicas need Redis.
 */
import { RedBlackTree } from 'data-structure-typed';
import type { BoardUpdate, LeaderboardStore, Neighbourhood, RankedMember, TopPage } from './store';

interface MemberKey {
  boardScore: number;
  userId: string;
}

/** Best first: higher score, then the greater user id (Redis' reverse-range order). */
function compareMembers(a: MemberKey, b: MemberKey): number {
  if (a.boardScore !== b.boardScore) return b.boardScore - a.boardScore;
  return a.userId === b.userId ? 0 : a.userId < b.userId ? 1 : -1;
}

class Board {
  private readonly tree = new RedBlackTree<MemberKey>([], { comparator: compareMembers, enableOrderStatistic: true });
  private readonly members = new Map<string, MemberKey>();

  get size(): number {
    return this.members.size;
  }

  raise(userId: string, boardScore: number): void {
    const current = this.members.get(userId);
    if (current && current.boardScore >= boardScore) return;
    if (current) this.tree.delete(current);
    const key = { boardScore, userId };
    this.tree.set(key);
    this.members.set(userId, key);
  }

  range(from: number, to: number): RankedMember[] {
    if (to < from || from >= this.members.size) return [];
    return this.tree
      .rangeByRank(from, Math.min(to, this.members.size - 1))
      .flatMap((key, i) => (key ? [{ rank: from + i + 1, userId: key.userId, boardScore: key.boardScore }] : []));
  }

  positionOf(userId: string): { position: number; key: MemberKey } | undefined {
    const key = this.members.get(userId);
    return key ? { position: this.tree.getRank(key), key } : undefined;
  }
}

export class MemoryLeaderboardStore implements LeaderboardStore {
  readonly kind = 'memory' as const;
  private readonly boards = new Map<string, Board>();

  async record(updates: readonly BoardUpdate[]): Promise<void> {
    // Synchronous from here on: no other request runs in between, so the batch is atomic.
    for (const { board, userId, boardScore } of updates) {
      let target = this.boards.get(board);
      if (!target) {
        target = new Board();
        this.boards.set(board, target);
      }
      target.raise(userId, boardScore);
    }
  }

  async top(board: string, offset: number, limit: number): Promise<TopPage> {
    const target = this.boards.get(board);
    if (!target || limit <= 0) return { total: target?.size ?? 0, entries: [] };
    return { total: target.size, entries: target.range(offset, offset + limit - 1) };
  }

  async around(board: string, userId: string, radius: number): Promise<Neighbourhood | undefined> {
    const target = this.boards.get(board);
    const found = target?.positionOf(userId);
    if (!target || !found) return undefined;
    return {
      total: target.size,
      player: { rank: found.position + 1, userId, boardScore: found.key.boardScore },
      entries: target.range(Math.max(0, found.position - radius), found.position + radius),
    };
  }

  async size(board: string): Promise<number> {
    return this.boards.get(board)?.size ?? 0;
  }

  async deleteBoards(boards: readonly string[]): Promise<void> {
    for (const board of boards) this.boards.delete(board);
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    this.boards.clear();
  }
}
