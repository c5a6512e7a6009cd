/**
 * The player view of published quizzes, cached at two levels (decisions 0502, 0900):
 *
 * - `QuizCache`: the Dapr state store (shared by every replica). An optimisation only: every
 *   failure of the store is logged and the caller falls back to the database, and a TTL bounds
 *   how stale an entry can get if an invalidation is lost. Keys: `quiz:<id>:v<version>` per
 *   version, and `quiz:<id>:current` for the playable version.
 * - `PlayerViewCache`: in this process, in front of the state store: the view's JSON bytes and
 *   their ETag, made once per fill, so a hit costs no serialisation, validation or round trip.
 *   Bounded in entries (least recently filled evicted first) and in age; emptied per quiz by
 *   every replica on the events that change a view (quiz.view.changed, leaderboard.updated).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dapr } from '@quizmesh/platform';
import { playerQuizSchema, type PlayerQuiz } from '@quizmesh/contracts/quiz-api';

export type CacheSlot = 'current' | number;

export const cacheKey = (quizId: string, slot: CacheSlot) =>
  `quiz:${quizId}:${slot === 'current' ? 'current' : `v${slot}`}`;

export class QuizCache {
  constructor(
    private readonly dapr: Pick<Dapr, 'getState' | 'saveState' | 'stateTransaction'>,
    private readonly store: string,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  async get(quizId: string, slot: CacheSlot): Promise<PlayerQuiz | undefined> {
    const key = cacheKey(quizId, slot);
    try {
      const value = await this.dapr.getState<unknown>(this.store, key);
      if (value === undefined) return undefined;
      const parsed = playerQuizSchema.safeParse(value);
      if (parsed.success) return parsed.data;
      // An entry written by an older release: treat as a miss; the next put overwrites it.
      this.logger.warn({ key }, 'ignoring a cached quiz that does not match the PlayerQuiz contract');
      return undefined;
    } catch (err) {
      this.logger.warn({ err, key }, 'quiz cache read failed; reading from the database');
      return undefined;
    }
  }

  async put(view: PlayerQuiz, slots: readonly CacheSlot[]): Promise<void> {
    const metadata = { ttlInSeconds: String(this.ttlSeconds) };
    try {
      await this.dapr.saveState(
        this.store,
        slots.map((slot) => ({ key: cacheKey(view.id, slot), value: view, metadata })),
      );
    } catch (err) {
      this.logger.warn({ err, quizId: view.id }, 'quiz cache write failed');
    }
  }

  /** Deletes the playable-version entry and the given versions' entries in one state transaction. */
  async invalidate(quizId: string, versions: ReadonlyArray<number | null | undefined>): Promise<void> {
    const slots: CacheSlot[] = ['current', ...new Set(versions.filter((v): v is number => typeof v === 'number'))];
    try {
      await this.dapr.stateTransaction(
        this.store,
        slots.map((slot) => ({ operation: 'delete' as const, request: { key: cacheKey(quizId, slot) } })),
      );
    } catch (err) {
      this.logger.warn({ err, quizId }, 'quiz cache invalidation failed; entries expire with their TTL');
    }
  }
}

/** A player view ready to send: its bytes and their strong ETag, computed once. */
export interface RenderedView {
  body: Buffer;
  etag: string;
  /** when this process's copy expires; only on a view this process keeps (the gateway may keep it as long, decision 1000) */
  expiresAt?: number;
}

export function renderView(view: PlayerQuiz): RenderedView {
  const body = Buffer.from(JSON.stringify(view));
  return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

interface Entry extends RenderedView {
  expiresAt: number;
}

export interface PlayerViewCacheOptions {
  /** at most this many quizzes are held; the least recently filled is evicted first */
  maxEntries: number;
  /** an entry older than this is refilled: the bound on staleness if an invalidation is lost */
  maxAgeMs: number;
  /** injectable for tests */
  now?: () => number;
}

/**
 * The playable version's rendered view per quiz, in this process. Only views of published quizzes
 * are held (an archived quiz is read from the state store or the database every time). A fill
 * that started before an invalidation is not stored (`generation`), so a read racing a change
 * never puts the old view back.
 */
export class PlayerViewCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly options: PlayerViewCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(quizId: string): RenderedView | undefined {
    const entry = this.entries.get(quizId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(quizId);
      return undefined;
    }
    return entry;
  }

  /** A token to pass to `fill`: a fill is dropped if any invalidation happened since. */
  startFill(): number {
    return this.generation;
  }

  /** Renders `view`, keeps it if it is a published quiz's and nothing was invalidated since `token`. */
  fill(view: PlayerQuiz, token: number): RenderedView {
    const rendered = renderView(view);
    if (view.status !== 'published' || token !== this.generation || this.options.maxEntries === 0) return rendered;
    this.entries.delete(view.id);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    const entry = { ...rendered, expiresAt: this.now() + this.options.maxAgeMs };
    this.entries.set(view.id, entry);
    return entry;
  }

  invalidate(quizId: string): void {
    this.generation += 1;
    this.entries.delete(quizId);
  }

  /** true when an invalidation happened since `token` was taken */
  changedSince(token: number): boolean {
    return token !== this.generation;
  }
}

/** The two levels of one process. */
export interface PlayerViewLevels {
  cache: QuizCache;
  views: PlayerViewCache;
}

/**
 * Writes a view read from the database to the state store for every replica, unless it may be
 * stale: a change invalidated this process's views since `token` (taken before the read). Every
 * replica receives every change that invalidates (quiz.view.changed and leaderboard.updated are
 * broadcast), so this process hears of any change that could make its read stale. A change
 * that lands while the write is in flight may have deleted the entry before the write landed:
 * the entry is deleted again.
 */
export async function shareView(levels: PlayerViewLevels, view: PlayerQuiz, token: number): Promise<void> {
  if (levels.views.changedSince(token)) return;
  await levels.cache.put(view, ['current', view.version]);
  if (levels.views.changedSince(token)) await levels.cache.invalidate(view.id, [view.version]);
}

/**
 * Drops a quiz's views at both levels: this process's, the state store's (the playable version
 * and `versions`), and this process's again, so a fill that read the state store just before its
 * delete is not kept either.
 */
export async function invalidatePlayerViews(
  levels: PlayerViewLevels,
  quizId: string,
  versions: ReadonlyArray<number | null | undefined>,
): Promise<void> {
  levels.views.invalidate(quizId);
  await levels.cache.invalidate(quizId, versions);
  levels.views.invalidate(quizId);
}
