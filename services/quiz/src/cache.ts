/**
 * The player view of published quizzes, cached in the Dapr state store. An optimisation only:
 * every failure of the store is logged and the caller falls back to the database, and a TTL
 * bounds how stale an entry can get if an invalidation is lost (decision 0502).
 *
 * Keys: `quiz:<id>:v<version>` per version, and `quiz:<id>:current` for the playable version
 * (GET /api/v1/quizzes/:id must not need the database to know which version that is).
 */
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
