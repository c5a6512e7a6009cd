/** The gateway's kept answers (decision 1000): what is kept, for how long, and what drops it. */
import { SHARED_CACHE_HEADER } from '@quizmesh/platform';
import { cachePurges, purgeFieldsByTopic } from '../src/cache/purges';
import { MAX_ANSWER_BYTES, ResponseCache, sharedMaxAgeS, type ResponseCacheOptions } from '../src/cache/response-cache';
import { resolveRoute } from '../src/routes';

const QUIZ = '6f1c1e8e-3c1e-4a53-9a5e-1f7d1b2f0a01';
const PATH = `/api/v1/quizzes/${QUIZ}`;
const body = (text: string) => Buffer.from(JSON.stringify({ title: text }));

function marked(extra: Record<string, string> = {}, maxAge = 30): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    etag: '"v1"',
    'cache-control': 'no-cache',
    'content-length': '40',
    'x-request-id': 'req-of-the-first-caller',
    date: 'Sun, 06 Dec 2026 09:00:00 GMT',
    [SHARED_CACHE_HEADER]: `max-age=${maxAge}`,
    ...extra,
  };
}

function cacheWithClock(options: Partial<ResponseCacheOptions> = {}) {
  const clock = { now: 1_000_000 };
  const cache = new ResponseCache({
    maxEntries: 100,
    maxBytes: 1_048_576,
    maxAgeMs: 10_000,
    settleMs: 1_000,
    now: () => clock.now,
    ...options,
  });
  return { cache, clock };
}

describe('ResponseCache', () => {
  it('keeps a marked 200 with its representation headers only, and serves it to anyone', () => {
    const { cache } = cacheWithClock();
    const headers = marked();
    expect(cache.accepts(200, headers)).toBe(true);
    expect(cache.store(PATH, cache.startFill(QUIZ), headers, body('one'))).toBe(true);
    const kept = cache.get(PATH);
    expect(kept?.body.toString()).toBe(body('one').toString());
    expect(kept?.etag).toBe('"v1"');
    expect(Object.fromEntries(kept?.headers ?? [])).toEqual({
      'content-type': 'application/json; charset=utf-8',
      etag: '"v1"',
      'cache-control': 'no-cache',
    });
  });

  it('never keeps an answer the service did not mark, nor a private, per-cookie or varying one', () => {
    const { cache } = cacheWithClock();
    const unmarked = marked();
    delete unmarked[SHARED_CACHE_HEADER];
    const refused = [
      unmarked,
      marked({ 'cache-control': 'private, no-cache' }),
      marked({ 'cache-control': 'no-store' }),
      marked({ 'set-cookie': 'qm_session=abc' }),
      marked({ vary: 'authorization' }),
      marked({}, 0),
      marked({ 'content-length': String(MAX_ANSWER_BYTES + 1) }),
    ];
    const chunked = marked();
    delete chunked['content-length'];
    refused.push(chunked);
    for (const headers of refused) {
      expect([headers, cache.accepts(200, headers)]).toEqual([headers, false]);
    }
    expect(cache.accepts(404, marked())).toBe(false);
    expect(cache.get(PATH)).toBeUndefined();
  });

  it('keeps an answer no longer than its own age limit or the service’s, whichever is shorter (a lost purge)', () => {
    const { cache, clock } = cacheWithClock({ maxAgeMs: 10_000 });
    cache.store(PATH, cache.startFill(QUIZ), marked({}, 600), body('old'));
    clock.now += 9_999;
    expect(cache.get(PATH)?.ageS).toBe(9);
    clock.now += 1;
    expect(cache.get(PATH)).toBeUndefined();

    cache.store(PATH, cache.startFill(QUIZ), marked({}, 3), body('old'));
    clock.now += 3_000;
    expect(cache.get(PATH)).toBeUndefined();
  });

  it('drops what a purge names, and keeps nothing for that key that raced it or was sent just after it', () => {
    const { cache, clock } = cacheWithClock({ settleMs: 1_000 });
    const other = '0b8a6f4e-5d8c-4e0e-8a3f-5e0b6c1d2e03';
    cache.store(PATH, cache.startFill(QUIZ), marked(), body('old'));
    cache.store(`/api/v1/quizzes/${other}`, cache.startFill(other), marked(), body('other'));

    const racing = cache.startFill(QUIZ);
    clock.now += 5;
    cache.purge(QUIZ);
    expect(cache.get(PATH)).toBeUndefined();
    expect(cache.get(`/api/v1/quizzes/${other}`)).toBeDefined();
    // Sent before the purge: it may be the old answer.
    expect(cache.store(PATH, racing, marked(), body('old'))).toBe(false);
    // Sent within the settle time: a replica of the service may not have heard the event yet.
    clock.now += 999;
    expect(cache.store(PATH, cache.startFill(QUIZ), marked(), body('old'))).toBe(false);
    clock.now += 1;
    expect(cache.store(PATH, cache.startFill(QUIZ), marked(), body('new'))).toBe(true);
    expect(cache.get(PATH)?.body.toString()).toBe(body('new').toString());
  });

  it('purges a path that spells the id in upper case, and the other way round', () => {
    const { cache, clock } = cacheWithClock({ settleMs: 0 });
    const upper = `/api/v1/quizzes/${QUIZ.toUpperCase()}`;
    cache.store(upper, cache.startFill(QUIZ.toUpperCase()), marked(), body('old'));
    cache.purge(QUIZ);
    expect(cache.get(upper)).toBeUndefined();
    clock.now += 1;
    cache.store(PATH, cache.startFill(QUIZ), marked(), body('old'));
    cache.purge(QUIZ.toUpperCase());
    expect(cache.get(PATH)).toBeUndefined();
  });

  it('is bounded in entries and bytes, the least recently stored going first', () => {
    const { cache } = cacheWithClock({ maxEntries: 2, maxBytes: 1_000 });
    const ids = ['a', 'b', 'c'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
    for (const id of ids) cache.store(`/api/v1/quizzes/${id}`, cache.startFill(id), marked(), body(id));
    expect(cache.size).toBe(2);
    expect(cache.get(`/api/v1/quizzes/${ids[0] ?? ''}`)).toBeUndefined();
    cache.store('/big', cache.startFill('big'), marked(), Buffer.alloc(990));
    expect(cache.size).toBe(1);
    expect(cache.get('/big')?.body.length).toBe(990);
  });

  it('keeps nothing when it may hold no entry', () => {
    const { cache } = cacheWithClock({ maxEntries: 0 });
    expect(cache.accepts(200, marked())).toBe(false);
  });

  it('reads the service’s max-age from its mark', () => {
    expect(sharedMaxAgeS({ [SHARED_CACHE_HEADER]: 'max-age=30' })).toBe(30);
    expect(sharedMaxAgeS({ [SHARED_CACHE_HEADER]: 'max-age=0' })).toBeUndefined();
    expect(sharedMaxAgeS({ [SHARED_CACHE_HEADER]: 'max-age=abc' })).toBeUndefined();
    expect(sharedMaxAgeS({})).toBeUndefined();
  });
});

describe('what the registry lets the gateway keep and what purges it', () => {
  it('keeps the quiz player view (and its seed path), purged by quiz.view.changed and leaderboard.updated', () => {
    expect(resolveRoute('GET', PATH)?.keptBySegment).toBe(4);
    expect(resolveRoute('GET', `/api/quizzes/${QUIZ}`)?.keptBySegment).toBe(3);
    expect(resolveRoute('POST', `${PATH}/publish`)?.purgesBySegment).toBe(4);
    expect(resolveRoute('POST', `${PATH}/archive`)?.purgesBySegment).toBe(4);
    expect(purgeFieldsByTopic()).toEqual(
      new Map([
        ['quiz.view.changed', ['quizId']],
        ['leaderboard.updated', ['quizId']],
      ]),
    );
  });

  it('keeps nothing per user: no other operation is kept, and starting an attempt purges nothing', () => {
    for (const [method, path] of [
      ['GET', '/api/v1/quizzes'],
      ['GET', `/api/v1/attempts/${QUIZ}`],
      ['GET', '/api/v1/users/me'],
      ['GET', `${PATH}/versions`],
    ] as const) {
      expect([path, resolveRoute(method, path)?.keptBySegment]).toEqual([path, undefined]);
    }
    expect(resolveRoute('POST', `${PATH}/attempts`)?.purgesBySegment).toBeUndefined();
  });

  it('drops a quiz’s kept view on the events that name it', () => {
    const purged: string[] = [];
    const purges = cachePurges({ purge: (key) => purged.push(key) });
    purges.onEvent('quiz.view.changed', { quizId: QUIZ, versions: [1, 2], reason: 'published' });
    purges.onEvent('leaderboard.updated', { quizId: 'q2' });
    purges.onEvent('notification.created', { quizId: 'q3' });
    expect(purged).toEqual([QUIZ, 'q2']);
  });
});
