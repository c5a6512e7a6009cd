/**
 * The behaviour every LeaderboardStore must have, run against the in-process board and against
 * real Redis (leaderboard-store.memory.test.ts, leaderboard-store.redis.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { encodeBoardScore } from '../src/leaderboard/score';
import type { LeaderboardStore } from '../src/leaderboard';

const at = (iso: string) => new Date(iso);
/** Sorted user ids, so tests can reason about the final (user id) tie-break. */
const users = (n: number) => Array.from({ length: n }, () => randomUUID()).sort();

export function leaderboardStoreContract(
  make: () => Promise<{ store: LeaderboardStore; cleanup(): Promise<void> }>,
): void {
  let store: LeaderboardStore;
  let cleanup: () => Promise<void>;
  let board: string;

  beforeAll(async () => {
    ({ store, cleanup } = await make());
  });
  afterAll(async () => {
    await cleanup?.();
  });
  beforeEach(() => {
    board = `quiz:${randomUUID()}`;
  });

  it('answers an empty page, size 0 and no rank for a board nobody played', async () => {
    await expect(store.top(board, 0, 10)).resolves.toEqual({ total: 0, entries: [] });
    await expect(store.size(board)).resolves.toBe(0);
    await expect(store.around(board, randomUUID(), 3)).resolves.toBeUndefined();
  });

  it('ranks higher scores first with 1-based ranks and pages with offset and limit', async () => {
    const [a = '', b = '', c = '', d = ''] = users(4);
    const t = at('2026-11-20T10:00:00Z');
    await store.record([
      { board, userId: a, boardScore: encodeBoardScore(3, t) },
      { board, userId: b, boardScore: encodeBoardScore(9, t) },
      { board, userId: c, boardScore: encodeBoardScore(5, t) },
      { board, userId: d, boardScore: encodeBoardScore(7, t) },
    ]);
    const all = await store.top(board, 0, 10);
    expect(all.total).toBe(4);
    expect(all.entries.map((e) => [e.rank, e.userId])).toEqual([
      [1, b],
      [2, d],
      [3, c],
      [4, a],
    ]);
    expect(all.entries[0]?.boardScore).toBe(encodeBoardScore(9, t));
    const page = await store.top(board, 1, 2);
    expect(page).toEqual({ total: 4, entries: [all.entries[1], all.entries[2]] });
    await expect(store.top(board, 4, 10)).resolves.toEqual({ total: 4, entries: [] });
  });

  it('breaks equal scores by the earlier finish, then by the greater user id', async () => {
    const [low = '', high = '', early = ''] = users(3);
    await store.record([
      { board, userId: low, boardScore: encodeBoardScore(5, at('2026-11-20T10:00:05Z')) },
      { board, userId: high, boardScore: encodeBoardScore(5, at('2026-11-20T10:00:05Z')) },
      { board, userId: early, boardScore: encodeBoardScore(5, at('2026-11-20T10:00:04Z')) },
    ]);
    const { entries } = await store.top(board, 0, 3);
    expect(entries.map((e) => e.userId)).toEqual([early, high, low]);
  });

  it('keeps each player’s best score: a lower or repeated update changes nothing (GT, not an increment)', async () => {
    const [a = '', b = ''] = users(2);
    const t = at('2026-11-20T10:00:00Z');
    const best = encodeBoardScore(8, t);
    await store.record([{ board, userId: a, boardScore: best }]);
    await store.record([{ board, userId: a, boardScore: best }]);
    await store.record([{ board, userId: a, boardScore: encodeBoardScore(4, t) }]);
    await store.record([{ board, userId: b, boardScore: encodeBoardScore(6, t) }]);
    expect((await store.top(board, 0, 10)).entries.map((e) => [e.userId, e.boardScore])).toEqual([
      [a, best],
      [b, encodeBoardScore(6, t)],
    ]);
    await store.record([{ board, userId: b, boardScore: encodeBoardScore(10, t) }]);
    expect((await store.top(board, 0, 1)).entries[0]).toEqual({
      rank: 1,
      userId: b,
      boardScore: encodeBoardScore(10, t),
    });
    await expect(store.size(board)).resolves.toBe(2);
  });

  it('applies one batch to several boards', async () => {
    const [a = ''] = users(1);
    const other = `weekly:${randomUUID()}`;
    const score = encodeBoardScore(2, at('2026-11-20T10:00:00Z'));
    await store.record([
      { board, userId: a, boardScore: score },
      { board: other, userId: a, boardScore: score },
    ]);
    await expect(store.size(board)).resolves.toBe(1);
    await expect(store.size(other)).resolves.toBe(1);
    await store.deleteBoards([other]);
    await expect(store.size(other)).resolves.toBe(0);
  });

  it('finds a player’s rank with the players around them, clipped at both ends', async () => {
    const ids = users(10);
    const t = at('2026-11-20T10:00:00Z');
    // ids[i] scores 100 - i: ids[0] ranks 1st, ids[9] 10th.
    await store.record(ids.map((userId, i) => ({ board, userId, boardScore: encodeBoardScore(100 - i, t) })));

    const middle = await store.around(board, ids[5] ?? '', 2);
    expect(middle?.total).toBe(10);
    expect(middle?.player).toEqual({ rank: 6, userId: ids[5], boardScore: encodeBoardScore(95, t) });
    expect(middle?.entries.map((e) => [e.rank, e.userId])).toEqual([4, 5, 6, 7, 8].map((r) => [r, ids[r - 1]]));

    const first = await store.around(board, ids[0] ?? '', 3);
    expect(first?.entries.map((e) => e.rank)).toEqual([1, 2, 3, 4]);
    const last = await store.around(board, ids[9] ?? '', 3);
    expect(last?.entries.map((e) => e.rank)).toEqual([7, 8, 9, 10]);
    const alone = await store.around(board, ids[4] ?? '', 0);
    expect(alone?.entries).toEqual([alone?.player]);
    await expect(store.around(board, randomUUID(), 2)).resolves.toBeUndefined();
  });

  it('keeps ranks consistent after many interleaved raises', async () => {
    const ids = users(200);
    const t = at('2026-11-20T10:00:00Z');
    const expected = new Map<string, number>();
    let seed = 7;
    for (let round = 0; round < 5; round++) {
      const batch = ids.map((userId) => {
        seed = (seed * 48271) % 2147483647;
        const boardScore = encodeBoardScore(seed % 50, t);
        expected.set(userId, Math.max(expected.get(userId) ?? 0, boardScore));
        return { board, userId, boardScore };
      });
      await store.record(batch);
    }
    const ordered = [...expected.entries()].sort(([ua, a], [ub, b]) => b - a || (ua < ub ? 1 : -1));
    const { total, entries } = await store.top(board, 0, 200);
    expect(total).toBe(200);
    expect(entries.map((e) => [e.userId, e.boardScore])).toEqual(ordered);
    const probe = ordered[137]?.[0] ?? '';
    expect((await store.around(board, probe, 1))?.player.rank).toBe(138);
  });

  it('answers the readiness check', async () => {
    await expect(store.check()).resolves.toBeUndefined();
  });
}
