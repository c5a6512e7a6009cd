/** The in-process level of the player-view cache (decision 0900): no backend, no app. */
import { randomUUID } from 'node:crypto';
import type { PlayerQuiz } from '@quizmesh/contracts/quiz-api';
import type { Logger } from 'pino';
import { cacheKey, invalidatePlayerViews, PlayerViewCache, QuizCache, renderView, shareView } from '../src/cache';

function view(overrides: Partial<PlayerQuiz> = {}): PlayerQuiz {
  return {
    id: randomUUID(),
    version: 1,
    title: 'Capitals',
    description: '',
    tags: [],
    difficulty: 'easy',
    timeLimitSeconds: 60,
    questionCount: 0,
    maxScore: 0,
    authorId: randomUUID(),
    status: 'published',
    versionStatus: 'published',
    publishedAt: new Date(0).toISOString(),
    questions: [],
    leaderboard: null,
    ...overrides,
  } as PlayerQuiz;
}

describe('PlayerViewCache', () => {
  it('keeps the bytes and a strong ETag of the bytes, made once', () => {
    const cache = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const quiz = view();
    const filled = cache.fill(quiz, cache.startFill());
    expect(JSON.parse(filled.body.toString('utf8'))).toEqual(quiz);
    expect(filled.etag).toMatch(/^"[\w-]{27}"$/);
    expect(cache.get(quiz.id)).toMatchObject(filled);
    expect(renderView({ ...quiz, title: 'Capitals!' }).etag).not.toBe(filled.etag);
  });

  it('says until when it keeps a view only for a view it keeps (what the gateway may keep, decision 1000)', () => {
    const now = 5_000;
    const cache = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 30_000, now: () => now });
    const published = view();
    expect(cache.fill(published, cache.startFill()).expiresAt).toBe(35_000);
    expect(cache.get(published.id)?.expiresAt).toBe(35_000);
    expect(cache.fill(view({ status: 'archived' }), cache.startFill()).expiresAt).toBeUndefined();
    const racing = cache.startFill();
    cache.invalidate(randomUUID());
    expect(cache.fill(view(), racing).expiresAt).toBeUndefined();
  });

  it('holds at most maxEntries quizzes, dropping the least recently filled', () => {
    const cache = new PlayerViewCache({ maxEntries: 100, maxAgeMs: 60_000 });
    const quizzes = Array.from({ length: 1_000 }, () => view());
    for (const quiz of quizzes) cache.fill(quiz, cache.startFill());
    expect(cache.size).toBe(100);
    expect(cache.get(quizzes[0]?.id ?? '')).toBeUndefined();
    expect(cache.get(quizzes[899]?.id ?? '')).toBeUndefined();
    expect(cache.get(quizzes[900]?.id ?? '')).toBeDefined();
    expect(cache.get(quizzes[999]?.id ?? '')).toBeDefined();
  });

  it('refills an entry older than maxAgeMs (the bound if an invalidation is lost)', () => {
    let now = 1_000;
    const cache = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 30_000, now: () => now });
    const quiz = view();
    cache.fill(quiz, cache.startFill());
    now += 29_999;
    expect(cache.get(quiz.id)).toBeDefined();
    now += 1;
    expect(cache.get(quiz.id)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not keep a fill that started before an invalidation (a read racing a change)', () => {
    const cache = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const quiz = view();
    const token = cache.startFill();
    cache.invalidate(quiz.id);
    const answered = cache.fill(quiz, token);
    expect(JSON.parse(answered.body.toString('utf8'))).toEqual(quiz);
    expect(cache.get(quiz.id)).toBeUndefined();
    cache.fill(quiz, cache.startFill());
    expect(cache.get(quiz.id)).toBeDefined();
  });

  it('drops a quiz on invalidate and never keeps an archived view', () => {
    const cache = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const quiz = view();
    cache.fill(quiz, cache.startFill());
    cache.invalidate(quiz.id);
    expect(cache.get(quiz.id)).toBeUndefined();
    cache.fill({ ...quiz, status: 'archived', versionStatus: 'archived' }, cache.startFill());
    expect(cache.get(quiz.id)).toBeUndefined();
  });

  it('keeps nothing with maxEntries 0', () => {
    const cache = new PlayerViewCache({ maxEntries: 0, maxAgeMs: 60_000 });
    const quiz = view();
    cache.fill(quiz, cache.startFill());
    expect(cache.size).toBe(0);
  });
});

describe('shareView (the state store level, written after a database read)', () => {
  /** The state store behind QuizCache: a map, with a hook while a write is in flight. */
  function store(duringSave: () => void = () => undefined) {
    const kept = new Map<string, unknown>();
    const dapr = {
      getState: async <T>(_store: string, key: string) => kept.get(key) as T | undefined,
      saveState: async (_store: string, items: Array<{ key: string; value: unknown }>) => {
        duringSave();
        for (const item of items) kept.set(item.key, item.value);
      },
      stateTransaction: async (_store: string, operations: Array<{ request: { key: string } }>) => {
        for (const op of operations) kept.delete(op.request.key);
      },
    };
    const logger = { warn: () => undefined } as unknown as Logger;
    return { kept, cache: new QuizCache(dapr as never, 'statestore', 300, logger) };
  }

  it('shares a view no change raced', async () => {
    const views = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const { kept, cache } = store();
    const quiz = view();
    await shareView({ cache, views }, quiz, views.startFill());
    expect(kept.get(cacheKey(quiz.id, 'current'))).toEqual(quiz);
    expect(kept.get(cacheKey(quiz.id, 1))).toEqual(quiz);
  });

  it('does not share a view read before a change (it may be stale)', async () => {
    const views = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const { kept, cache } = store();
    const quiz = view();
    const token = views.startFill();
    // The leaderboard delivery: the database changed after the read, then the views were dropped.
    await invalidatePlayerViews({ cache, views }, quiz.id, [1]);
    await shareView({ cache, views }, quiz, token);
    expect(kept.size).toBe(0);
  });

  it('removes what it shared when a change landed while the write was in flight', async () => {
    const views = new PlayerViewCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const quiz = view();
    // The change's delete runs first (nothing there yet), then the stale write lands.
    const { kept, cache } = store(() => views.invalidate(quiz.id));
    await shareView({ cache, views }, quiz, views.startFill());
    expect(kept.size).toBe(0);
  });
});
