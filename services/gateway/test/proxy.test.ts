/** Forwarding through the real local sidecars: routing, headers, pass-through, and failures → 503/504. */
import { ecKey, jwks, signToken } from './support/keys';
import { echo, json, startHarness, type Harness } from './support/harness';
import { rawRequest } from './support/raw';

const key = ecKey();
const identityApp = (req: { url: string }, res: Parameters<typeof json>[0]) =>
  req.url === '/.well-known/jwks.json' ? json(res, 200, jwks(key)) : echo(req as Parameters<typeof echo>[0], res);

interface Echoed {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('gateway forwarding', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      apps: { identity: identityApp, quiz: echo, evaluation: echo, notification: echo },
      // TRUST_PROXY=false: no hop may set X-Forwarded-For, so a client's own value is ignored.
      env: { UPSTREAM_TIMEOUT_MS: '1500', TRUST_PROXY: 'false' },
    });
  });
  afterAll(() => h.close());

  const upstream = (appId: string) => {
    const u = h.upstreams[appId];
    if (!u) throw new Error(`no upstream ${appId}`);
    return u;
  };

  it('routes a public path to its service with path and query unchanged', async () => {
    const res = await fetch(`${h.url}/api/v1/quizzes?topic=space&limit=5`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Echoed;
    expect(body.url).toBe('/api/v1/quizzes?topic=space&limit=5');
    expect(body.headers['x-quizmesh-user-id']).toBeUndefined();
  });

  it.each([
    ['GET', '/api/v1/users/me', 'identity'],
    ['GET', '/api/v1/attempts/7', 'quiz'],
    ['GET', '/api/v1/leaderboards/global', 'evaluation'],
    ['GET', '/api/v1/results/abc', 'evaluation'],
    ['GET', '/api/v1/notifications', 'notification'],
    ['GET', '/api/users/profile', 'identity'],
    ['GET', '/api/leaderboard', 'evaluation'],
    ['POST', '/api/results/submit', 'evaluation'],
  ])('%s %s goes to %s', async (method, path, appId) => {
    const before = upstream(appId).requests.length;
    const res = await fetch(`${h.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${signToken(key)}`,
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    expect(res.status).toBe(200);
    const calls = upstream(appId)
      .requests.slice(before)
      .filter((r) => r.url !== '/.well-known/jwks.json');
    expect(calls.map((r) => r.url)).toEqual([path]);
  });

  it('answers 404 problem+json for a path outside the route table', async () => {
    const res = await fetch(`${h.url}/api/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 404, detail: 'no route for GET /api/v1/nothing-here' });
  });

  it('answers 404 itself for a method or path under a service that the registry does not declare (deny by default)', async () => {
    const token = signToken(key, { roles: ['author'] });
    const before = upstream('quiz').requests.length;
    for (const [method, path] of [
      ['PUT', '/api/v1/quizzes/q1/publish'],
      ['DELETE', '/api/v1/quizzes/q1'],
      ['GET', '/api/v1/quizzes/q1/secret-admin-thing'],
    ] as const) {
      const res = await fetch(`${h.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(await res.json()).toMatchObject({ status: 404, detail: `no route for ${method} ${path}` });
    }
    expect(upstream('quiz').requests.slice(before)).toEqual([]);
  });

  it('refuses paths whose meaning could differ downstream', async () => {
    // Raw requests: fetch would normalise these paths before sending them.
    for (const path of [
      '/api/v1/quizzes/../admin/users',
      '/api/v1/quizzes/%2e%2e/admin',
      '/api/v1/quizzes/a%2Fb',
      '/api/v1/quizzes//x',
    ]) {
      const res = await rawRequest(h.port, { method: 'GET', path });
      expect([path, res.status]).toEqual([path, 400]);
    }
  });

  it('passes the authenticated user, the request id and the trace context, and strips what clients must not set', async () => {
    const token = signToken(key, { sub: 'u-42', roles: ['player', 'author'] });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${h.url}/api/v1/users/me`, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-abc-123',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        // Spoofing attempts: a user, roles and a Dapr identity of the client's choosing.
        'x-quizmesh-user-id': 'admin-1',
        'x-quizmesh-user-roles': 'admin',
        'dapr-caller-app-id': 'quiz',
        'dapr-api-token': 'guess',
        'x-forwarded-for': '10.9.8.7',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    // What the gateway asked its sidecar to deliver:
    const sent = h.tap.requests.filter((r) => r.url === '/v1.0/invoke/identity/method/api/v1/users/me').at(-1);
    expect(sent?.headers).toMatchObject({
      'x-quizmesh-user-id': 'u-42',
      'x-quizmesh-user-roles': 'player,author',
      'x-request-id': 'req-abc-123',
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      'x-forwarded-for': '127.0.0.1',
    });
    expect(sent?.headers['dapr-caller-app-id']).toBeUndefined();
    expect(sent?.headers['dapr-api-token']).toBeUndefined();
    // What identity received: the caller identity comes from its own sidecar.
    const { headers } = (await res.json()) as Echoed;
    expect(headers['dapr-caller-app-id']).toBe('gateway');
    expect(headers['dapr-api-token']).toBeUndefined();
    expect(headers['x-quizmesh-user-roles']).not.toBe('admin');
    expect(headers['x-request-id']).toBe('req-abc-123');
    expect(headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('passes status, headers and problem bodies of the services through unchanged', async () => {
    upstream('quiz').handle((req, res) => {
      if (req.method === 'POST') {
        json(res, 201, { id: 'q1' }, { location: '/api/v1/quizzes/q1', etag: '"v1"' });
        return;
      }
      res.writeHead(409, { 'content-type': 'application/problem+json', 'retry-after': '3' });
      res.end(
        JSON.stringify({
          type: 'https://quizmesh.dev/problems/conflict',
          title: 'Conflict',
          status: 409,
          detail: 'quiz is archived',
        }),
      );
    });
    const token = signToken(key, { roles: ['author'] });
    const created = await fetch(`${h.url}/api/v1/quizzes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Space' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/quizzes/q1');
    expect(created.headers.get('etag')).toBe('"v1"');

    const conflict = await fetch(`${h.url}/api/v1/quizzes/q1`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Space 2' }),
    });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toBe('application/problem+json');
    expect(conflict.headers.get('retry-after')).toBe('3');
    expect(await conflict.json()).toEqual({
      type: 'https://quizmesh.dev/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'quiz is archived',
    });
    upstream('quiz').handle(echo);
  });

  it('passes a service’s own 500 problem through (it is not a Dapr failure)', async () => {
    upstream('notification').handle((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({ type: 'https://quizmesh.dev/problems/internal', title: 'Internal Server Error', status: 500 }),
      );
    });
    const res = await fetch(`${h.url}/api/v1/notifications`, {
      headers: { authorization: `Bearer ${signToken(key)}` },
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ type: 'https://quizmesh.dev/problems/internal' });
    upstream('notification').handle(echo);
  });

  it('forwards request bodies intact', async () => {
    const payload = JSON.stringify({ answers: Array.from({ length: 2000 }, (_, i) => ({ q: i, a: 'é✓' })) });
    const res = await fetch(`${h.url}/api/v1/attempts/1/submit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${signToken(key)}`, 'content-type': 'application/json; charset=utf-8' },
      body: payload,
    });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as Echoed;
    expect(echoed.body).toBe(payload);
    expect(echoed.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('answers 504 when Dapr’s resiliency timeout fires', async () => {
    // quiz's policy times out after 1 s, before the gateway's own 1.5 s bound.
    upstream('quiz').handle(async (req, res) => {
      await sleep(2_500);
      echo(req, res);
    });
    const res = await fetch(`${h.url}/api/v1/quizzes`);
    expect(res.status).toBe(504);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 504, detail: 'quiz did not answer in time' });
    upstream('quiz').handle(echo);
  });

  it('answers 504 on its own upper bound when Dapr has no timeout for the app', async () => {
    // notification has no resiliency target in the test policy: only UPSTREAM_TIMEOUT_MS (1.5 s) bounds it.
    upstream('notification').handle(async (req, res) => {
      await sleep(2_500);
      echo(req, res);
    });
    const res = await fetch(`${h.url}/api/v1/notifications`, {
      headers: { authorization: `Bearer ${signToken(key)}` },
    });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ status: 504, detail: 'notification did not answer within 1500 ms' });
    upstream('notification').handle(echo);
  });

  it('answers 503 quickly when a service is down', async () => {
    await upstream('notification').stop();
    const res = await fetch(`${h.url}/api/v1/notifications`, {
      headers: { authorization: `Bearer ${signToken(key)}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 503, detail: 'notification is unavailable' });
  });
});

describe('gateway circuit breakers (one per service, decision 0720)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      apps: { identity: identityApp, evaluation: echo, quiz: echo },
      env: { BREAKER_MIN_CALLS: '3' },
    });
  });
  afterAll(() => h.close());

  const upstream = (appId: string) => {
    const u = h.upstreams[appId];
    if (!u) throw new Error(`no upstream ${appId}`);
    return u;
  };

  it('never opens a breaker for a service’s 4xx answers, however many', async () => {
    let answer = 404;
    upstream('evaluation').handle((_req, res) => json(res, answer, { status: answer }));
    const token = signToken(key);
    const statuses = new Set<number>();
    for (const status of [404, 401, 403, 409, 422]) {
      answer = status;
      for (let i = 0; i < 20; i += 1) {
        const res = await fetch(`${h.url}/api/v1/leaderboards/global`, {
          headers: { authorization: `Bearer ${token}` },
        });
        statuses.add(res.status);
        await res.arrayBuffer();
      }
    }
    expect([...statuses]).toEqual([404, 401, 403, 409, 422]);
    expect(h.gateway.proxy.isOpen('evaluation')).toBe(false);
    upstream('evaluation').handle(echo);
    expect(
      (await fetch(`${h.url}/api/v1/leaderboards/global`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });

  it('answers 503 while a service fails, and names the open circuit breaker', async () => {
    upstream('quiz').handle((_req, res) => json(res, 500, { error: 'database down' }));
    const token = signToken(key);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await fetch(`${h.url}/api/v1/attempts/1`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(res.status);
      if (i === 3)
        expect(await res.json()).toMatchObject({ status: 503, detail: expect.stringMatching(/circuit breaker open/) });
      else await res.arrayBuffer();
    }
    // Three failures pass through as the app's own 500s; then the gateway's breaker (BREAKER_MIN_CALLS 3) answers for it.
    expect(statuses).toEqual([500, 500, 500, 503]);
    expect(h.gateway.proxy.isOpen('quiz')).toBe(true);
    // Only for that service.
    expect(h.gateway.proxy.isOpen('evaluation')).toBe(false);
    expect(
      (await fetch(`${h.url}/api/v1/leaderboards/global`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });
});

describe('gateway without its sidecar', () => {
  let h: Harness;
  beforeAll(async () => {
    // Port 1: nothing listens, as when the sidecar container is not up.
    h = await startHarness({ apps: {}, env: { DAPR_HTTP_PORT: '1' } });
  });
  afterAll(() => h.close());

  it('answers 503 problem+json', async () => {
    const res = await fetch(`${h.url}/api/v1/quizzes`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 503, type: 'https://quizmesh.dev/problems/sidecar-unreachable' });
  });
});
