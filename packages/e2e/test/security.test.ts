/**
 * Issue 11, items 1-3, on the real platform (launcher, local sidecars, PostgreSQL, Redis,
 * RabbitMQ), as a hostile client would try them:
 *  - trust boundaries: a service port or a sidecar called directly, with forged caller headers
 *    and no token, refuses (401) — the gateway is the only way in;
 *  - breakers: 100 consecutive 4xx-causing requests of each kind from one client leave every
 *    other user's requests answered normally, while a service that is really down still opens
 *    the gateway's breaker for it (and only for it);
 *  - one routing truth: another spelling of login/register (case, trailing slash) never reaches
 *    a handler, so the login and registration limits cannot be bypassed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createCast,
  PASSWORD,
  quizBody,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
} from '../src';

let e2e: E2EPlatform;
let victim: Account;
let attacker: Account;
let author: Account;
let quiz: AuthorQuiz;

beforeAll(async () => {
  e2e = await startE2EPlatform({ backends: 'local' });
  const cast = await createCast(e2e.gateway, 2, 'sec');
  [victim, attacker] = cast.players as [Account, Account];
  author = cast.author;
  quiz = await e2e.gateway.publishQuiz(author, quizBody('Security'));
}, 300_000);

afterAll(() => e2e?.stop(), 120_000);

const endpoint = (app: string) => {
  const found = e2e.platform.endpoints[app];
  if (!found) throw new Error(`${app} is not running`);
  return found;
};

const forgedGateway = {
  'content-type': 'application/json',
  'dapr-caller-app-id': 'gateway',
  'x-quizmesh-user-id': randomUUID(),
  'x-quizmesh-user-roles': 'player,author,admin',
};

describe('trust boundaries: only the gateway is a way in', () => {
  it.each([
    ['quiz', 'POST', '/api/v1/quizzes', quizBody('Forged')],
    ['identity', 'GET', '/api/v1/admin/users', undefined],
    ['evaluation', 'GET', '/api/v1/leaderboards/global', undefined],
    ['notification', 'GET', '/api/v1/notifications', undefined],
  ])(
    '%s refuses %s %s from anyone but its sidecar, whatever caller it claims (401)',
    async (app, method, path, body) => {
      const res = await fetch(`${endpoint(app).appUrl}${path}`, {
        method,
        headers: forgedGateway,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    },
  );

  it.each(['gateway', 'identity', 'quiz', 'evaluation', 'notification'])(
    "%s's sidecar refuses its API without the Dapr API token",
    async (app) => {
      const base = `http://127.0.0.1:${endpoint(app).sidecarPort}`;
      const calls: Array<[string, string, string?]> = [
        ['GET', '/v1.0/metadata'],
        ['PUT', '/v1.0/metadata/x', 'y'],
        ['POST', '/v1.0/publish/pubsub/quiz.published', '{}'],
        ['GET', '/v1.0/invoke/identity/method/api/v1/admin/users'],
        ['POST', '/v1.0/shutdown'],
      ];
      for (const [method, path, body] of calls) {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { ...forgedGateway, 'dapr-api-token': 'guess' },
          ...(body === undefined ? {} : { body }),
        });
        expect([method, path, res.status]).toEqual([method, path, 401]);
      }
      // Still up: the refused shutdown did nothing.
      const meta = await fetch(`${base}/v1.0/metadata`, { headers: { 'dapr-api-token': endpoint(app).daprApiToken } });
      expect(meta.status).toBe(200);
    },
  );
});

describe('one routing truth: no other spelling reaches login or registration', () => {
  it.each([
    '/api/v1/auth/Login',
    '/api/v1/auth/LOGIN',
    '/api/v1/auth/login/',
    '/api/v1/Auth/login',
    '/API/v1/auth/login',
    '/api/users/Login',
    '/api/users/login/',
  ])('POST %s with a valid token and the right password never logs in', async (path) => {
    const res = await e2e.gateway.call('POST', path, {
      token: attacker.token,
      body: { email: attacker.email, password: PASSWORD },
    });
    expect([path, res.status]).toEqual([path, 404]);
  });

  it.each(['/api/v1/auth/Register', '/api/v1/auth/register/', '/api/v1/AUTH/register', '/api/users/Register'])(
    'POST %s with a valid token never registers',
    async (path) => {
      const email = `variant.${randomUUID()}@example.com`;
      const res = await e2e.gateway.call('POST', path, {
        token: attacker.token,
        body: { email, displayName: 'Variant', password: PASSWORD },
      });
      expect([path, res.status]).toEqual([path, 404]);
      const rows = await e2e.query('identity', 'select 1 from "User" where email = $1', [email]);
      expect(rows).toEqual([]);
    },
  );

  it('counts failed logins against the limit whatever the spelling, and no spelling escapes it', async () => {
    const body = { email: victim.email, password: 'wrong password, surely' };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1)
      statuses.push((await e2e.gateway.call('POST', '/api/v1/auth/login', { body })).status);
    // LOGIN_RATE_LIMIT (5) failures, then 429.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    for (const path of ['/api/v1/auth/Login', '/api/v1/auth/login/'])
      expect((await e2e.gateway.call('POST', path, { body, token: attacker.token })).status).toBe(404);
  });
});

describe('no client can open a breaker', () => {
  /** What other users do meanwhile: each must be answered normally (never 503). */
  async function othersAreServed(): Promise<void> {
    const fresh = await e2e.gateway.call('POST', '/api/v1/auth/login', {
      body: { email: author.email, password: PASSWORD },
    });
    expect(fresh.status).toBe(200);
    const { refreshToken } = (await fresh.json()) as { refreshToken: string };
    const answers = await Promise.all([
      e2e.gateway.call('GET', `/api/v1/quizzes/${quiz.id}`),
      e2e.gateway.call('GET', '/api/v1/quizzes'),
      e2e.gateway.call('POST', '/api/v1/auth/refresh', { body: { refreshToken } }),
      e2e.gateway.call('GET', '/api/v1/users/me', { token: author.token }),
      e2e.gateway.call('GET', '/api/v1/leaderboards/global', { token: author.token }),
      e2e.gateway.call('GET', '/api/v1/notifications', { token: author.token }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
  }

  const junkRefreshToken = () => randomBytes(32).toString('base64url');

  it.each<[string, number, () => Promise<Response>]>([
    ['GET an unknown quiz', 404, () => e2e.gateway.call('GET', `/api/v1/quizzes/${randomUUID()}`)],
    [
      'log in with a wrong password (a new email each time, so no login limit applies)',
      401,
      () =>
        e2e.gateway.call('POST', '/api/v1/auth/login', {
          body: { email: `nobody.${randomUUID()}@example.com`, password: 'not the password' },
        }),
    ],
    [
      'refresh with a junk token',
      401,
      () => e2e.gateway.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: junkRefreshToken() } }),
    ],
    [
      'create a quiz with a player token (403 from quiz itself)',
      403,
      () => e2e.gateway.call('POST', '/api/v1/quizzes', { token: attacker.token, body: quizBody('Not mine') }),
    ],
  ])('100 × "%s" (%i) leave every other user served', async (_kind, status, send) => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < 100; i += 1) {
      const res = await send();
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ [status]: 100 });
    await othersAreServed();
    expect(e2e.logLines('gateway').filter((l) => l.msg === 'circuit breaker opened')).toEqual([]);
  });

  it('opens the breaker of a service that is really down, fast, and for that service only', async () => {
    await e2e.platform.stopService('quiz', { signal: 'SIGKILL' });
    try {
      // Traffic as many users would send it (10 at a time): within one breaker window
      // (BREAKER_WINDOW_MS, 10 s) the earlier successes age out and the failures (at least
      // BREAKER_MIN_CALLS of them) open it; until then each call fails on its own, after that
      // without trying.
      const started = Date.now();
      const answers: Array<{ status: number; detail: string }> = [];
      while (Date.now() - started < 40_000 && !answers.some((a) => /circuit breaker open/.test(a.detail))) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, async () => {
            // The list, not the quiz's view: the gateway may answer a view it keeps without quiz (decision 1000).
            const res = await e2e.gateway.call('GET', '/api/v1/quizzes');
            return { status: res.status, detail: ((await res.json()) as { detail: string }).detail };
          }),
        );
        answers.push(...batch);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(answers.filter((a) => a.status !== 503)).toEqual([]);
      expect(answers.some((a) => /circuit breaker open/.test(a.detail))).toBe(true);
      expect(e2e.logLines('gateway').filter((l) => l.msg === 'circuit breaker opened')).toEqual([
        expect.objectContaining({ appId: 'quiz' }),
      ]);
      // Other services are not affected.
      expect((await e2e.gateway.call('GET', '/api/v1/users/me', { token: victim.token })).status).toBe(200);
    } finally {
      await e2e.platform.startService('quiz');
    }
  }, 120_000);
});
