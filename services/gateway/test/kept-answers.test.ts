/**
 * The answers the gateway keeps (decision 1000), through the real gateway and real local
 * sidecars: a scripted quiz app (the test plays quiz and identity) that marks its player view as
 * the real one does. What is kept and for whom, what still runs on every request, what drops a
 * kept view: a change through this gateway at once, an event on every replica (RabbitMQ, the
 * per-pod broadcast component). Kept views live 10 minutes here: only a purge explains a fresh answer.
 */
import { randomUUID } from 'node:crypto';
import { SHARED_CACHE_HEADER, USER_ID_HEADER } from '@quizmesh/platform';
import { eventually, missing, createTestVhost, type TestVhost } from '@quizmesh/platform/testing';
import { leaderboardUpdated, quizViewChanged } from '@quizmesh/contracts/events';
import { json, startHarness, type Handler, type Harness } from './support/harness';
import { ecKey, jwks, signToken } from './support/keys';
import { startPublisher, type Publisher } from './support/publisher';
import { startBroadcastReplicas } from './support/sse';

const key = ecKey();
const bearer = (sub: string) => ({ authorization: `Bearer ${signToken(key, { sub })}` });
const KEEP_LONG = { RESPONSE_CACHE_MAX_AGE_S: '600' };

/** What the scripted quiz serves: per quiz its version; `private` quizzes are answered `Cache-Control: private`. */
interface QuizState {
  versions: Map<string, number>;
  privateIds: Set<string>;
  unmarkedIds: Set<string>;
}

function quizApp(state: QuizState): Handler {
  return (req, res) => {
    if (req.url === '/.well-known/jwks.json') return json(res, 200, jwks(key));
    const [, , , collection, rawId = '', action] = req.url.split('/');
    // As Express decodes a path parameter.
    const id = decodeURIComponent(rawId);
    if (collection === 'quizzes' && req.method === 'GET' && action === undefined) {
      const version = state.versions.get(id);
      if (version === undefined) return json(res, 404, { title: 'no such quiz' });
      const marked = !state.unmarkedIds.has(id);
      return json(
        res,
        200,
        { id, version, ifNoneMatchSeen: req.headers['if-none-match'] ?? null },
        {
          etag: `"${id}-v${version}"`,
          'cache-control': state.privateIds.has(id) ? 'private, no-cache' : 'no-cache',
          ...(marked ? { [SHARED_CACHE_HEADER]: 'max-age=600' } : {}),
        },
      );
    }
    if (collection === 'quizzes' && req.method === 'POST' && action === 'publish') {
      state.versions.set(id, (state.versions.get(id) ?? 0) + 1);
      return json(res, 200, { id, version: state.versions.get(id) });
    }
    if (collection === 'attempts' && req.method === 'GET') {
      // Per user: a service that marked it anyway must not make the gateway keep it (the registry does not).
      return json(res, 200, { id, owner: req.headers[USER_ID_HEADER] }, { [SHARED_CACHE_HEADER]: 'max-age=600' });
    }
    return json(res, 404, { title: 'not scripted' });
  };
}

const newState = (): QuizState => ({ versions: new Map(), privateIds: new Set(), unmarkedIds: new Set() });

function quizRequests(h: Harness, path: string): number {
  return h.upstreams.quiz?.requests.filter((r) => r.url === path).length ?? 0;
}

async function read(h: Harness, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}${path}`, { headers });
  const text = await res.text();
  return {
    status: res.status,
    body:
      text === '' ? undefined : (JSON.parse(text) as { version?: number; owner?: string; ifNoneMatchSeen?: string }),
    headers: Object.fromEntries(res.headers),
  };
}

describe('answers kept by one gateway', () => {
  const state = newState();
  let h: Harness;
  const quiz = (id: string, version = 1) => {
    state.versions.set(id, version);
    return `/api/v1/quizzes/${id}`;
  };

  beforeAll(async () => {
    h = await startHarness({ apps: { identity: quizApp(state), quiz: quizApp(state) }, env: KEEP_LONG });
  });
  afterAll(() => h?.close());

  it('answers a marked player view from what it keeps, to anyone, with only its representation headers', async () => {
    const path = quiz(randomUUID());
    const first = await read(h, path);
    expect(first.headers['cache-status']).toBe('gateway; fwd=uri-miss');
    const anonymous = await read(h, path);
    const signedIn = await read(h, path, bearer(randomUUID()));
    expect(quizRequests(h, path)).toBe(1);
    for (const kept of [anonymous, signedIn]) {
      expect(kept.status).toBe(200);
      expect(kept.body).toEqual(first.body);
      expect(kept.headers).toMatchObject({
        'cache-status': 'gateway; hit',
        etag: first.headers.etag,
        'cache-control': 'no-cache',
        'content-type': 'application/json',
        age: '0',
      });
      // Its own request id, never the first caller's.
      expect(kept.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    }
    for (const answer of [first, anonymous, signedIn]) expect(answer.headers[SHARED_CACHE_HEADER]).toBeUndefined();
  });

  it('answers If-None-Match itself: the service is asked for the whole view once, then nothing', async () => {
    const path = quiz(randomUUID());
    const etag = `"${path.split('/')[4] ?? ''}-v1"`;
    const cold = await read(h, path, { 'if-none-match': etag });
    expect([cold.status, cold.body]).toEqual([304, undefined]);
    const sent = h.upstreams.quiz?.requests.filter((r) => r.url === path) ?? [];
    expect(sent.map((r) => r.headers['if-none-match'])).toEqual([undefined]);
    const warm = await read(h, path, { 'if-none-match': `"other", W/${etag}` });
    expect([warm.status, warm.headers['cache-status'], warm.headers.etag]).toEqual([304, 'gateway; hit', etag]);
    expect((await read(h, path, { 'if-none-match': '"other"' })).status).toBe(200);
    expect(quizRequests(h, path)).toBe(1);
  });

  it('still checks the token of every request it answers from what it keeps', async () => {
    const path = quiz(randomUUID());
    await read(h, path);
    expect((await read(h, path)).headers['cache-status']).toBe('gateway; hit');
    expect((await read(h, path, { authorization: 'Bearer forged' })).status).toBe(401);
  });

  it('serves a version published through it at once', async () => {
    const id = randomUUID();
    const path = quiz(id);
    expect((await read(h, path)).body?.version).toBe(1);
    expect((await read(h, path)).headers['cache-status']).toBe('gateway; hit');
    const published = await fetch(`${h.url}${path}/publish`, { method: 'POST', headers: bearer(randomUUID()) });
    expect(published.status).toBe(200);
    expect((await read(h, path)).body?.version).toBe(2);
  });

  it('never keeps a per-user answer, a private one, or one the service did not mark', async () => {
    const attempt = `/api/v1/attempts/${randomUUID()}`;
    const [ann, bob] = [randomUUID(), randomUUID()];
    for (const user of [ann, bob, ann]) {
      const answer = await read(h, attempt, bearer(user));
      expect([answer.body?.owner, answer.headers['cache-status']]).toEqual([user, undefined]);
    }
    expect(quizRequests(h, attempt)).toBe(3);

    const privateId = randomUUID();
    const unmarkedId = randomUUID();
    state.privateIds.add(privateId);
    state.unmarkedIds.add(unmarkedId);
    for (const path of [quiz(privateId), quiz(unmarkedId)]) {
      for (let i = 0; i < 3; i += 1)
        expect((await read(h, path)).headers['cache-status']).toBe('gateway; fwd=uri-miss');
      expect(quizRequests(h, path)).toBe(3);
    }
    // A percent-encoded id (events name it decoded) or a query (another resource): passed on, never kept.
    const encodedId = randomUUID();
    quiz(encodedId);
    const encoded = `/api/v1/quizzes/${encodedId.replace(/-/g, '%2D')}`;
    for (let i = 0; i < 2; i += 1) expect((await read(h, encoded)).headers['cache-status']).toBeUndefined();
    expect(quizRequests(h, encoded)).toBe(2);
    const path = quiz(randomUUID());
    for (let i = 0; i < 2; i += 1) await read(h, `${path}?x=${i}`);
    expect(h.upstreams.quiz?.requests.filter((r) => r.url.startsWith(`${path}?`)).length).toBe(2);
  });
});

describe('answers kept by a gateway with a per-address limit', () => {
  let h: Harness;
  const state = newState();

  beforeAll(async () => {
    h = await startHarness({
      apps: { identity: quizApp(state), quiz: quizApp(state) },
      env: { ...KEEP_LONG, RATE_LIMIT_PER_IP: '3' },
    });
  });
  afterAll(() => h?.close());

  it('counts requests it answers from what it keeps', async () => {
    const id = randomUUID();
    state.versions.set(id, 1);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await read(h, `/api/v1/quizzes/${id}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(quizRequests(h, `/api/v1/quizzes/${id}`)).toBe(1);
  });
});

describe('answers kept by two gateway replicas (the chart’s pubsub-broadcast)', () => {
  let vhost: TestVhost;
  const replicas: Harness[] = [];
  const state = newState();
  let quizPublisher: Publisher;
  let evaluationPublisher: Publisher;

  beforeAll(async () => {
    vhost = await createTestVhost('qm_gateway_kept');
    const first = await startBroadcastReplicas(
      vhost.url,
      ['gateway-5c6d-a', 'gateway-5c6d-b'],
      { apps: { identity: quizApp(state), quiz: quizApp(state) }, env: KEEP_LONG },
      replicas,
    );
    quizPublisher = await startPublisher('quiz', first.resourcesDir);
    evaluationPublisher = await startPublisher('evaluation', first.resourcesDir);
  });

  afterAll(async () => {
    await evaluationPublisher?.close();
    await quizPublisher?.close();
    for (const h of replicas) await h.close();
    await vhost?.drop();
  });

  /** Both replicas answer `path` from what they keep. */
  async function keptOnBoth(path: string, version: number) {
    for (const h of replicas) {
      await read(h, path);
      expect(await read(h, path)).toMatchObject({ body: { version }, headers: { 'cache-status': 'gateway; hit' } });
    }
  }

  const untilBothServe = (path: string, version: number) =>
    Promise.all(
      replicas.map((h, i) =>
        eventually(`replica ${i} serves version ${version}`, async () => {
          const answer = await read(h, path);
          if (answer.body?.version !== version) throw missing(`it serves ${JSON.stringify(answer.body)}`);
        }),
      ),
    );

  it('drops a view on every replica when quiz.view.changed names its quiz', async () => {
    const id = randomUUID();
    const path = `/api/v1/quizzes/${id}`;
    state.versions.set(id, 1);
    await keptOnBoth(path, 1);
    // Published past the gateways (as the operator does, through quiz's sidecar).
    state.versions.set(id, 2);
    await quizPublisher.publish(quizViewChanged, randomUUID(), {
      schemaVersion: 1,
      quizId: id,
      versions: [1, 2],
      reason: 'published',
    });
    await untilBothServe(path, 2);
  });

  it('drops a view on every replica when leaderboard.updated names its quiz', async () => {
    const id = randomUUID();
    const path = `/api/v1/quizzes/${id}`;
    state.versions.set(id, 1);
    await keptOnBoth(path, 1);
    state.versions.set(id, 2);
    const top = [{ rank: 1, userId: randomUUID(), displayName: 'Ada', score: 4 }];
    // The quiz board among the others a scoring raised (version 2: one event for all of them).
    await evaluationPublisher.publish(leaderboardUpdated, randomUUID(), {
      schemaVersion: 2,
      boards: [
        { board: 'global', top },
        { board: 'quiz', quizId: id, top },
        { board: 'weekly', period: '2026-W47', top },
      ],
      updatedAt: new Date().toISOString(),
    });
    await untilBothServe(path, 2);
  });
});
