/**
 * Quiz's in-process player views on two replicas (decision 0900), on real RabbitMQ, PostgreSQL
 * and Redis with the real sidecars, started by the launcher as `npm start -- --backends=local
 * --replicas=quiz=2` does. Each replica holds the view in memory; a change made through one
 * replica (publish, archive) or a new leaderboard must reach the other through the per-pod
 * `pubsub-broadcast` queues, well before the views' age limit (set to 10 minutes here, so only an
 * invalidation can explain a fresh answer). The gateway keeps the view too (decision 1000), with
 * the same 10-minute limit: a change through it is seen at once, a change elsewhere once the
 * event reaches it.
 */
import { randomUUID } from 'node:crypto';
import { playerQuizSchema, type PlayerQuiz } from '@quizmesh/contracts/quiz-api';
import { leaderboardUpdated } from '@quizmesh/contracts/events';
import { gatewayHeaders } from '@quizmesh/platform/testing';
import { createCast, eventually, missing, quizBody, startE2EPlatform, type E2EPlatform } from '@quizmesh/e2e';

jest.setTimeout(300_000);

describe('quiz player views on two replicas and at the gateway', () => {
  let e2e: E2EPlatform;
  let author: { id: string; token: string };
  let replicas: string[];
  let appToken: string;

  beforeAll(async () => {
    e2e = await startE2EPlatform({
      backends: 'local',
      services: ['identity', 'quiz'],
      replicas: { quiz: 2 },
      serviceEnv: { quiz: { QUIZ_VIEW_CACHE_SECONDS: '600' }, gateway: { RESPONSE_CACHE_MAX_AGE_S: '600' } },
    });
    ({ author } = await createCast(e2e.gateway, 0, 'views'));
    replicas = e2e.platform.instances('quiz').map((i) => i.appUrl);
    appToken = e2e.platform.endpoints.quiz?.appApiToken ?? '';
  });

  afterAll(async () => {
    await e2e?.stop();
  });

  /** A call to one replica's app as its sidecar would make it (the app token; the gateway's user headers). */
  const direct = (
    replica: number,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
  ) =>
    fetch(`${replicas[replica] ?? ''}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'dapr-api-token': appToken,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const asAuthor = () => gatewayHeaders(author.id, ['player', 'author']);

  async function viewOn(replica: number, quizId: string): Promise<{ view: PlayerQuiz; etag: string }> {
    const res = await direct(replica, `/api/v1/quizzes/${quizId}`);
    expect(res.status).toBe(200);
    return { view: playerQuizSchema.parse(await res.json()), etag: res.headers.get('etag') ?? '' };
  }

  /** Waits (30 s at most, far below the views' age limit) until `replica` serves a view that passes `check`. */
  const until = (what: string, replica: number, quizId: string, check: (view: PlayerQuiz) => boolean) =>
    eventually(what, async () => {
      const { view } = await viewOn(replica, quizId);
      if (!check(view))
        throw missing(
          `${what}; it serves ${JSON.stringify({ version: view.version, title: view.title, status: view.status })}`,
        );
      return view;
    });

  /** A read through the gateway: the view, its ETag and whether the gateway answered it from what it keeps. */
  async function viewViaGateway(quizId: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quizId}`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-quizmesh-shared-cache')).toBeNull();
    return {
      view: playerQuizSchema.parse(await res.json()),
      etag: res.headers.get('etag') ?? '',
      hit: res.headers.get('cache-status') === 'gateway; hit',
    };
  }

  /** Waits (30 s at most, far below the age limits) until the gateway serves a view that passes `check`. */
  const untilViaGateway = (what: string, quizId: string, check: (view: PlayerQuiz) => boolean) =>
    eventually(what, async () => {
      const { view } = await viewViaGateway(quizId);
      if (!check(view))
        throw missing(`${what}; it serves ${JSON.stringify({ version: view.version, title: view.title })}`);
      return view;
    });

  it('runs two quiz replicas, each with its own app', () => {
    expect(replicas).toHaveLength(2);
    expect(new Set(replicas).size).toBe(2);
  });

  it('answers a view once rendered with its ETag, 304 for If-None-Match, on the app and through the gateway', async () => {
    const quiz = await e2e.gateway.publishQuiz(author as never, quizBody('ETags'));
    const first = await viewOn(0, quiz.id);
    expect(first.etag).toMatch(/^"[\w-]+"$/);
    const again = await direct(0, `/api/v1/quizzes/${quiz.id}`);
    expect(again.headers.get('etag')).toBe(first.etag);
    expect(await again.text()).toBe(JSON.stringify(first.view));

    const notModified = await direct(0, `/api/v1/quizzes/${quiz.id}`, { headers: { 'if-none-match': first.etag } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    const weakToo = await direct(0, `/api/v1/quizzes/${quiz.id}`, {
      headers: { 'if-none-match': `"x", W/${first.etag}` },
    });
    expect(weakToo.status).toBe(304);
    const other = await direct(0, `/api/v1/quizzes/${quiz.id}`, { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);

    const viaGateway = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quiz.id}`, {
      headers: { 'if-none-match': first.etag },
    });
    expect(viaGateway.status).toBe(304);
    expect(viaGateway.headers.get('etag')).toBe(first.etag);
  });

  /** Reads through the gateway until it answers from what it keeps (not within the settle time after a change). */
  const keptByGateway = (quizId: string) =>
    eventually('the gateway keeps the view', async () => {
      const read = await viewViaGateway(quizId);
      if (!read.hit) throw missing('the gateway does not keep the view yet');
      return read;
    });

  it('keeps the view at the gateway for everyone, answers 304 from it, and drops it on a publish through it', async () => {
    const quiz = await e2e.gateway.publishQuiz(author as never, quizBody('Kept v1'));
    const first = await keptByGateway(quiz.id);
    expect(first.view).toMatchObject({ version: 1, title: 'Kept v1' });
    // A signed-in player gets the same bytes: the view holds nothing of its reader.
    expect(await viewViaGateway(quiz.id, { authorization: `Bearer ${author.token}` })).toEqual(first);
    const notModified = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quiz.id}`, {
      headers: { 'if-none-match': first.etag },
    });
    expect([notModified.status, notModified.headers.get('cache-status'), await notModified.text()]).toEqual([
      304,
      'gateway; hit',
      '',
    ]);
    // Authorisation still runs on every request: a bad token is refused, kept view or not.
    const badToken = await fetch(`${e2e.platform.gatewayUrl}/api/v1/quizzes/${quiz.id}`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(badToken.status).toBe(401);

    const loose = playerQuizSchema.pick({ id: true }).loose();
    await e2e.gateway.expect(201, loose, 'PATCH', `/api/v1/quizzes/${quiz.id}`, {
      token: author.token,
      body: { title: 'Kept v2' },
    });
    // An edited draft changes nothing players see.
    expect(await viewViaGateway(quiz.id)).toEqual(first);
    await e2e.gateway.expect(200, loose, 'POST', `/api/v1/quizzes/${quiz.id}/publish`, { token: author.token });
    // The gateway dropped its copy; the quiz replica that did not publish drops its own once
    // quiz.view.changed reaches it (decision 0900), and the gateway keeps nothing until then.
    await untilViaGateway('the gateway serves version 2', quiz.id, (view) => view.version === 2);
    const republished = await keptByGateway(quiz.id);
    expect(republished.view).toMatchObject({ version: 2, title: 'Kept v2' });
    expect(republished.etag).not.toBe(first.etag);
  });

  it('drops the gateway’s view on a change made past it (quiz.view.changed), as the operator’s are', async () => {
    const quiz = await e2e.gateway.publishQuiz(author as never, quizBody('Gateway before'));
    await keptByGateway(quiz.id);
    // Straight to a quiz replica, as the operator's calls come through quiz's sidecar, never the gateway.
    const edited = await direct(1, `/api/v1/quizzes/${quiz.id}`, {
      method: 'PATCH',
      headers: asAuthor(),
      body: { title: 'Gateway after' },
    });
    expect(edited.status).toBe(201);
    expect(
      (await direct(1, `/api/v1/quizzes/${quiz.id}/publish`, { method: 'POST', headers: asAuthor() })).status,
    ).toBe(200);
    await untilViaGateway(
      'the gateway serves version 2',
      quiz.id,
      (view) => view.version === 2 && view.title === 'Gateway after',
    );

    const archived = await direct(0, `/api/v1/quizzes/${quiz.id}/archive`, { method: 'POST', headers: asAuthor() });
    expect(archived.status).toBe(200);
    await untilViaGateway('the gateway serves the archived quiz', quiz.id, (view) => view.status === 'archived');
    // An archived view is never kept, by quiz or by the gateway.
    expect((await viewViaGateway(quiz.id)).hit).toBe(false);
  });

  it('serves the new version on replica B after it was published through replica A', async () => {
    const quiz = await e2e.gateway.publishQuiz(author as never, quizBody('Before'));
    // Both replicas hold version 1 in memory.
    for (const replica of [0, 1]) expect((await viewOn(replica, quiz.id)).view.title).toBe('Before');
    const before = await viewOn(1, quiz.id);

    const edited = await direct(0, `/api/v1/quizzes/${quiz.id}`, {
      method: 'PATCH',
      headers: asAuthor(),
      body: { title: 'After' },
    });
    expect(edited.status).toBe(201);
    const published = await direct(0, `/api/v1/quizzes/${quiz.id}/publish`, { method: 'POST', headers: asAuthor() });
    expect(published.status).toBe(200);
    // The replica that made the change answers it at once.
    expect((await viewOn(0, quiz.id)).view).toMatchObject({ version: 2, title: 'After' });

    await until('replica B serves version 2', 1, quiz.id, (view) => view.version === 2 && view.title === 'After');
    const afterB = await direct(1, `/api/v1/quizzes/${quiz.id}`, { headers: { 'if-none-match': before.etag } });
    expect(afterB.status).toBe(200);
  });

  it('stops serving the published view on replica A once the quiz was archived through replica B', async () => {
    const quiz = await e2e.gateway.publishQuiz(author as never, quizBody('To archive'));
    for (const replica of [0, 1]) expect((await viewOn(replica, quiz.id)).view.status).toBe('published');
    const archived = await direct(1, `/api/v1/quizzes/${quiz.id}/archive`, { method: 'POST', headers: asAuthor() });
    expect(archived.status).toBe(200);
    await until('replica A serves the archived quiz', 0, quiz.id, (view) => view.status === 'archived');
    // An archived view is not kept in memory: every read goes to the state store or the database.
    expect((await viewOn(0, quiz.id)).view.status).toBe('archived');
  });

  it('never serves a quiz that was never published, from any replica', async () => {
    const draft = await e2e.gateway.expect(
      201,
      playerQuizSchema.pick({ id: true }).loose(),
      'POST',
      '/api/v1/quizzes',
      {
        token: author.token,
        body: quizBody('Draft only'),
      },
    );
    for (const replica of [0, 1]) expect((await direct(replica, `/api/v1/quizzes/${draft.id}`)).status).toBe(404);
  });

  it('shows a new leaderboard on both replicas (leaderboard.updated reaches every replica)', async () => {
    const quiz = await e2e.gateway.publishQuiz(author as never, quizBody('Leaders'));
    for (const replica of [0, 1]) expect((await viewOn(replica, quiz.id)).view.leaderboard).toBeNull();
    expect((await keptByGateway(quiz.id)).view.leaderboard).toBeNull();
    const leader = randomUUID();
    // Published as evaluation would, through a quiz sidecar (same broker and exchange).
    const sidecar = e2e.platform.instances('quiz')[0]?.sidecarPort ?? 0;
    const published = await fetch(`http://127.0.0.1:${sidecar}/v1.0/publish/pubsub/${leaderboardUpdated.topic}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'dapr-api-token': e2e.platform.endpoints.quiz?.daprApiToken ?? '',
      },
      body: JSON.stringify({
        schemaVersion: 2,
        boards: [
          { board: 'global', top: [] },
          { board: 'quiz', quizId: quiz.id, top: [{ rank: 1, userId: leader, displayName: 'Leader', score: 6 }] },
        ],
        updatedAt: new Date().toISOString(),
      }),
    });
    expect(published.status).toBe(204);
    for (const replica of [0, 1])
      await until(
        `replica ${replica} shows the leader`,
        replica,
        quiz.id,
        (view) => view.leaderboard?.top[0]?.userId === leader,
      );
    await untilViaGateway(
      'the gateway shows the leader',
      quiz.id,
      (view) => view.leaderboard?.top[0]?.userId === leader,
    );
  });
});
