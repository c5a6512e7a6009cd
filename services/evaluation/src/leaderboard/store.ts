/**
 * The leaderboard store: one sorted set per board, members are user ids, scores are composite
 * board scores (score.ts). Two implementations pass the same contract tests
 * (test/leaderboard-store-contract.ts): Redis sorted sets for real runs (REDIS_URL set) and an
 * in-process order-statistic tree for the embedded default (ARCHITECTURE.md "Direct Redis").
 *
 * Order, identical in both: higher board score first; equal board scores: greater user id first
 * (what Redis' reverse ranges do). Ranks are 1-based.
 */
export interface BoardUpdate {
  /** board key: `global`, `quiz:<quizId>`, `weekly:<YYYY-Www>` */
  board: string;
  userId: string;
  boardScore: number;
}

export interface RankedMember {
  rank: number;
  userId: string;
  boardScore: number;
}

export interface TopPage {
  total: number;
  entries: RankedMember[];
}

export interface Neighbourhood {
  total: number;
  player: RankedMember;
  /** up to `radius` members above and below the player, the player included, best first */
  entries: RankedMember[];
}

export interface LeaderboardStore {
  readonly kind: 'redis' | 'memory';
  /**
   * Raises each player's board score to the given one if it is higher ("GT" semantics), all
   * updates at once (a reader never sees half of them). Idempotent: replaying an update, or
   * an older lower one, changes nothing, which is what makes redelivered events harmless.
   */
  record(updates: readonly BoardUpdate[]): Promise<void>;
  /** Members at 0-based positions [offset, offset + limit), best first, and the board's size. */
  top(board: string, offset: number, limit: number): Promise<TopPage>;
  /** The player's rank and the `radius` members on either side; undefined when not on the board. */
  around(board: string, userId: string, radius: number): Promise<Neighbourhood | undefined>;
  /** Number of players on the board. */
  size(board: string): Promise<number>;
  /** Removes whole boards (tests, benchmarks, rebuilds). */
  deleteBoards(boards: readonly string[]): Promise<void>;
  /** Readiness: throws when the store cannot answer. */
  check(): Promise<void>;
  close(): Promise<void>;
}
