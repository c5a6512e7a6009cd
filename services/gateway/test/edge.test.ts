/** What the gateway refuses before any service is called: tokens, roles, limits, sizes, types; and CORS. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { backendUrls, redisKeyPrefix } from '@quizmesh/platform/testing';
import { ecKey, handmadeToken, jwks, signToken, standardClaims } from './support/keys';
import { echo, json, startHarness, type Handler, type Harness } from './support/harness';
import net from 'node:net';
import { parseRaw, rawExchange, rawRequest } from './support/raw';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const key = ecKey();
let publishedKeys = [key];
/** identity as the tests need it: its JWKS, and login that accepts one password. */
const identityApp: Handler = (req, res) => {
  if (req.url === '/.well-known/jwks.json') return json(res, 200, jwks(...publishedKeys));
  if (req.url === '/api/v1/auth/login' || req.url === '/api/users/login') {
    const { password } = JSON.parse(req.body) as { password?: string };
    if (password === 'correct horse battery') return json(res, 200, { tokenType: 'Bearer', accessToken: 'x' });
    res.writeHead(401, { 'content-type': 'application/problem+json' });
    res.end(
      JSON.stringify({ type: 'https://quizmesh.dev/problems/invalid-credentials', title: 'Unauthorized', status: 401 }),
    );
    return;
  }
  return echo(req, res);
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const identityCalls = (h: Harness) =>
  h.upstreams.identity?.requests.filter((r) => r.url !== '/.well-known/jwks.json') ?? [];

describe('gateway edge checks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      apps: { identity: identityApp, quiz: echo },
      env: {
        JSON_BODY_LIMIT: '1kb',
        MAX_HEADER_BYTES: '4096',
        // Each test acts from its own client address (X-Forwarded-For from loopback is trusted), so limits do not leak between tests.
        TRUST_PROXY: 'loopback',
        LOGIN_RATE_LIMIT: '5',
        REGISTER_RATE_LIMIT: '2',
        RATE_LIMIT_PER_USER: '3',
        JWKS_REFETCH_INTERVAL_MS: '1',
        CORS_ALLOWED_ORIGINS: 'https://app.quizmesh.dev,http://localhost:5173',
        REQUEST_BODY_TIMEOUT_MS: '500',
        HEADERS_TIMEOUT_MS: '1000',
        MAX_CONNECTIONS_PER_ADDRESS: '40',
      },
    });
  });
  afterAll(() => h.close());
  const client = () => ({
    'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
    'x-test-client': randomUUID(),
  });

  describe('authentication', () => {
    it('answers 401 with a Bearer challenge when a protected route gets no token', async () => {
      const res = await fetch(`${h.url}/api/v1/users/me`, { headers: client() });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="quizmesh"');
      expect(await res.json()).toMatchObject({
        status: 401,
        type: 'https://quizmesh.dev/problems/authentication-required',
      });
    });

    it.each([
      ['expired', () => signToken(key, { expiresInS: -60 }), /token expired/],
      ['not yet valid', () => signToken(key, { notBeforeS: 600 }), /not yet valid/],
      ['wrong issuer', () => signToken(key, { issuer: 'evil' }), /issuer invalid/],
      ['wrong audience', () => signToken(key, { audience: 'other' }), /audience invalid/],
      ['alg none', () => handmadeToken({ alg: 'none', kid: key.kid }, standardClaims()), /algorithm none/],
      ['HS256', () => handmadeToken({ alg: 'HS256', kid: key.kid }, standardClaims(), 'c2ln'), /algorithm HS256/],
      ['unknown kid', () => signToken(ecKey('stranger')), /unknown key id stranger/],
      [
        'tampered',
        () => signToken(key).replace(/\.([^.]+)\./, (_m, p: string) => `.${p.slice(0, -2)}xx.`),
        /invalid|malformed/,
      ],
    ])(
      'answers 401 invalid_token for a token that is %s, without calling the service',
      async (_case, token, reason) => {
        const before = identityCalls(h).length;
        const res = await fetch(`${h.url}/api/v1/users/me`, { headers: { ...client(), ...bearer(token()) } });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="quizmesh", error="invalid_token", error_description=".+"$/,
        );
        const problem = (await res.json()) as { detail: string; type: string };
        expect(problem.type).toBe('https://quizmesh.dev/problems/invalid-token');
        expect(problem.detail).toMatch(reason);
        expect(identityCalls(h).length).toBe(before);
      },
    );

    it('checks a token sent to a public route too', async () => {
      const res = await fetch(`${h.url}/api/v1/quizzes`, {
        headers: { ...client(), ...bearer(signToken(key, { expiresInS: -60 })) },
      });
      expect(res.status).toBe(401);
    });

    it('answers 403 when a player calls an admin route, without calling identity', async () => {
      const before = identityCalls(h).length;
      const res = await fetch(`${h.url}/api/v1/admin/users`, {
        headers: { ...client(), ...bearer(signToken(key, { roles: ['player'] })) },
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ status: 403, detail: 'requires role admin' });
      expect(identityCalls(h).length).toBe(before);
    });

    it('lets an admin through to the admin routes', async () => {
      const res = await fetch(`${h.url}/api/v1/admin/users?limit=5`, {
        headers: { ...client(), ...bearer(signToken(key, { roles: ['admin'] })) },
      });
      expect(res.status).toBe(200);
      expect(identityCalls(h).at(-1)?.url).toBe('/api/v1/admin/users?limit=5');
    });

    it('accepts tokens of a rotated key once identity publishes it', async () => {
      const next = ecKey('rotated');
      publishedKeys = [key, next];
      try {
        const res = await fetch(`${h.url}/api/v1/users/me`, { headers: { ...client(), ...bearer(signToken(next)) } });
        expect(res.status).toBe(200);
      } finally {
        publishedKeys = [key];
      }
    });

    it('fetched the keys from identity through Dapr service invocation', () => {
      const jwksCalls = h.upstreams.identity?.requests.filter((r) => r.url === '/.well-known/jwks.json') ?? [];
      expect(jwksCalls.length).toBeGreaterThan(0);
      expect(jwksCalls[0]?.headers['dapr-caller-app-id']).toBe('gateway');
    });
  });

  describe('rate limits', () => {
    const login = (headers: Record<string, string>, email: string, password: string, path = '/api/v1/auth/login') =>
      fetch(`${h.url}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });

    it('stops a brute-force login after 5 failures per address and account, with 429 and Retry-After', async () => {
      const me = client();
      const statuses = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await login(me, 'Ada@Example.com', `guess-${i}`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const blocked = await login(me, 'ada@example.com ', 'correct horse battery');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await blocked.json()).toMatchObject({
        status: 429,
        type: 'https://quizmesh.dev/problems/rate-limited',
        retryAfterSeconds: expect.any(Number),
      });
      // Another account from the same address, and the same account from another address, still get through.
      expect((await login(me, 'grace@example.com', 'correct horse battery')).status).toBe(200);
      expect((await login(client(), 'ada@example.com', 'correct horse battery')).status).toBe(200);
    });

    it('counts only failures: a successful login resets the count', async () => {
      const me = client();
      for (let i = 0; i < 4; i += 1) await login(me, 'lin@example.com', 'wrong');
      expect((await login(me, 'lin@example.com', 'correct horse battery')).status).toBe(200);
      const statuses = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await login(me, 'lin@example.com', 'wrong')).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
    });

    it('limits the seed login path the same way', async () => {
      const me = client();
      const statuses = [];
      for (let i = 0; i < 6; i += 1)
        statuses.push((await login(me, 'seed@example.com', 'wrong', '/api/users/login')).status);
      expect(statuses.at(-1)).toBe(429);
    });

    it('answers 400 for a login body that is not JSON', async () => {
      const res = await fetch(`${h.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { ...client(), 'content-type': 'application/json' },
        body: '{"email":',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: 'https://quizmesh.dev/problems/malformed-json' });
    });

    it('limits registrations per address', async () => {
      const me = client();
      const statuses = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await fetch(`${h.url}/api/v1/auth/register`, {
          method: 'POST',
          headers: { ...me, 'content-type': 'application/json' },
          body: JSON.stringify({ email: `u${i}@example.com` }),
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
    });

    it('limits requests per user, whatever the address', async () => {
      const token = signToken(key, { sub: `busy-${randomUUID()}` });
      const statuses = [];
      for (let i = 0; i < 4; i += 1)
        statuses.push((await fetch(`${h.url}/api/v1/users/me`, { headers: { ...client(), ...bearer(token) } })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    });
  });

  describe('request limits', () => {
    const token = () => bearer(signToken(key));

    it('answers 413 for a declared body over the limit, without calling the service', async () => {
      const before = h.upstreams.quiz?.requests.length;
      const res = await fetch(`${h.url}/api/v1/quizzes`, {
        method: 'POST',
        headers: { ...client(), ...token(), 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x'.repeat(2000) }),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ status: 413, detail: 'request body exceeds the limit of 1024 bytes' });
      expect(h.upstreams.quiz?.requests.length).toBe(before);
    });

    it('answers 413 for a chunked body that grows over the limit', async () => {
      const res = await rawRequest(h.port, {
        method: 'POST',
        path: '/api/v1/quizzes',
        headers: { ...client(), ...token(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        chunks: [Buffer.from('{"text":"'), Buffer.alloc(800, 'x'), Buffer.alloc(800, 'y'), Buffer.from('"}')],
      });
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('answers 415 for a body that is not JSON', async () => {
      const res = await fetch(`${h.url}/api/v1/quizzes`, {
        method: 'POST',
        headers: { ...client(), ...token(), 'content-type': 'text/plain' },
        body: 'hello',
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({
        status: 415,
        detail: 'request bodies must be application/json, got text/plain',
      });
    });

    it('answers 431 problem+json for headers over MAX_HEADER_BYTES', async () => {
      const res = await rawRequest(h.port, {
        method: 'GET',
        path: '/api/v1/quizzes',
        headers: { 'x-padding': 'p'.repeat(5000) },
      });
      expect(res.status).toBe(431);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({
        status: 431,
        title: 'Request Header Fields Too Large',
        type: 'https://quizmesh.dev/problems/headers-too-large',
      });
    });

    it('sets the platform’s security headers on proxied answers', async () => {
      const res = await fetch(`${h.url}/api/v1/quizzes`, { headers: client() });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
    });
  });

  describe('what the HTTP server and the body limits answer themselves (issue 11)', () => {
    const token = () => bearer(signToken(key, { roles: ['author'] }));

    // The attack seen was a large chunked body on GET, answered 503/EPIPE. A GET carries no body
    // at all (decision 0720), so it is refused before any byte is read: 400, never 5xx.
    it('refuses an oversized chunked body on a GET route with 400 problem+json, without calling the service', async () => {
      const before = h.upstreams.quiz?.requests.length;
      const res = await rawRequest(h.port, {
        method: 'GET',
        path: '/api/v1/quizzes',
        headers: { ...client(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        // Like the attack seen: a large body, sent as fast as the socket takes it.
        chunks: Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 'x')),
      });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(h.upstreams.quiz?.requests.length).toBe(before);
    });

    it('answers a body that does not arrive in time with 408 (the client), not 504 (the service)', async () => {
      const headers = Object.entries({ ...client(), ...token() })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      // Declares 100 bytes, sends 10, then nothing.
      const res = await rawExchange(
        h.port,
        `POST /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n${headers}content-type: application/json\r\ncontent-length: 100\r\n\r\n{"title":`,
      );
      expect(res.status).toBe(408);
      expect(res.headers).toContain('content-type: application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({
        status: 408,
        type: 'https://quizmesh.dev/problems/request-timeout',
      });
    });

    it('answers headers that do not arrive in time with 408 problem+json (a slow-header client)', async () => {
      // Starts a request and never finishes its headers.
      const res = await rawExchange(h.port, 'GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nX-Slow: ');
      expect(res.status).toBe(408);
      expect(res.headers).toContain('content-type: application/problem+json');
    });

    it.each([
      ['an absolute-form target', 'GET http://quiz.internal/api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n\r\n', 400],
      ['a request without Host', 'GET /api/v1/quizzes HTTP/1.1\r\n\r\n', 400],
      ['CONNECT', 'CONNECT quiz.internal:3002 HTTP/1.1\r\nHost: quiz.internal:3002\r\n\r\n', 405],
    ])('answers %s with problem+json', async (_name, request, status) => {
      const res = await rawExchange(h.port, request, 3_000);
      expect(res.status).toBe(status);
      expect(res.headers).toContain('content-type: application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({ status });
    });

    it('caps open connections per client address (429 problem+json), and serves again once they close', async () => {
      const sockets: net.Socket[] = [];
      const answers: string[] = [];
      try {
        for (let i = 0; i < 41; i += 1) {
          const socket = net.connect(h.port, '127.0.0.1');
          socket.on('data', (chunk: Buffer) => answers.push(chunk.toString('utf8')));
          socket.on('error', () => undefined);
          sockets.push(socket);
        }
        await until(() => answers.some((a) => a.startsWith('HTTP/1.1 429')));
        const refused = parseRaw(answers.find((a) => a.startsWith('HTTP/1.1 429')) ?? '');
        expect(refused.headers).toContain('content-type: application/problem+json');
        expect(JSON.parse(refused.body)).toMatchObject({ status: 429 });
      } finally {
        for (const socket of sockets) socket.destroy();
      }
      await until(async () => (await fetch(`${h.url}/healthz`).catch(() => undefined))?.status === 200);
    });
  });

  describe('CORS', () => {
    it('answers a preflight from an allowed origin without a token or a service call', async () => {
      const before = h.upstreams.quiz?.requests.length;
      const res = await fetch(`${h.url}/api/v1/quizzes`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.quizmesh.dev',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.quizmesh.dev');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('access-control-max-age')).toBe('600');
      expect(res.headers.get('vary')).toMatch(/origin/i);
      expect(h.upstreams.quiz?.requests.length).toBe(before);
    });

    it('gives other origins no CORS headers', async () => {
      const res = await fetch(`${h.url}/api/v1/quizzes`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const get = await fetch(`${h.url}/api/v1/quizzes`, { headers: { ...client(), origin: 'https://evil.example' } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('marks actual answers for allowed origins and exposes the useful headers', async () => {
      const res = await fetch(`${h.url}/api/v1/quizzes`, { headers: { ...client(), origin: 'http://localhost:5173' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(res.headers.get('access-control-expose-headers')).toContain('retry-after');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    });
  });
});

describe('gateway replicas sharing Redis', () => {
  const prefix = redisKeyPrefix('qm_gw_edge');
  let replicas: Harness[] = [];
  beforeAll(async () => {
    const env = {
      REDIS_URL: backendUrls.redis,
      RATE_LIMIT_KEY_PREFIX: prefix,
      LOGIN_RATE_LIMIT: '5',
      TRUST_PROXY: 'false',
    };
    replicas = [
      await startHarness({ apps: { identity: identityApp }, env }),
      await startHarness({ apps: { identity: identityApp }, env }),
    ];
    await Promise.all(replicas.map((r) => r.gateway.rateLimitStore.connected()));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    const redis = new Redis(backendUrls.redis);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('enforce one login limit, whichever replica a request reaches', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i += 1) {
      const replica = replicas[i % 2];
      if (!replica) throw new Error('no replica');
      const res = await fetch(`${replica.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com', password: 'wrong' }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});

describe('the per-address limit, whatever the spelling', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ apps: { identity: identityApp, quiz: echo }, env: { RATE_LIMIT_PER_IP: '3' } });
  });
  afterAll(() => h.close());

  it('counts every spelling of an API path against one client address', async () => {
    const statuses = [];
    for (const path of ['/API/v1/quizzes', '/Api/v1/quizzes/', '/.WELL-KNOWN/jwks.json', '/api/v1/quizzes'])
      statuses.push((await fetch(`${h.url}${path}`)).status);
    // Three other spellings (404: one route, one spelling) use up the limit of the real one.
    expect(statuses).toEqual([404, 404, 404, 429]);
  });
});
