/** The web app as the gateway serves it (static files, caching, CSP, SPA fallback) and its cookie sessions. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, startHarness, type Handler, type Harness } from './support/harness';

const INDEX = '<!doctype html><title>Quizmesh</title><script type="module" src="/assets/index-abc123.js"></script>';

/** identity's token endpoints, rotating refresh tokens r1 → r2 → … */
const identityCalls: Array<{ url: string; body: unknown }> = [];
let currentRefresh = 'r1';
const tokens = (refreshToken: string) => ({
  tokenType: 'Bearer',
  accessToken: `access-${refreshToken}`,
  expiresIn: 900,
  refreshToken,
  refreshTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
});
const identityApp: Handler = (req, res) => {
  const body: unknown = req.body ? JSON.parse(req.body) : undefined;
  identityCalls.push({ url: req.url, body });
  const problem = (status: number, extra: object = {}) => {
    res.writeHead(status, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'https://quizmesh.dev/problems/x', title: 'x', status, ...extra }));
  };
  if (req.url === '/api/v1/auth/login') {
    const { password } = body as { password?: string };
    return password === 'correct horse battery'
      ? json(res, 200, tokens(currentRefresh))
      : problem(401, { detail: 'wrong email or password' });
  }
  if (req.url === '/api/v1/auth/register') {
    return problem(400, {
      detail: 'body.password: too short',
      errors: [{ field: 'body.password', message: 'must be at least 12 characters' }],
    });
  }
  if (req.url === '/api/v1/auth/refresh') {
    const { refreshToken } = body as { refreshToken: string };
    if (refreshToken !== currentRefresh) return problem(401, { detail: 'refresh token reused' });
    currentRefresh = `r${Number(currentRefresh.slice(1)) + 1}`;
    return json(res, 200, tokens(currentRefresh));
  }
  if (req.url === '/api/v1/auth/logout') {
    res.writeHead(204);
    res.end();
    return;
  }
  return json(res, 404, {});
};

function cookiesOf(response: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at), line);
  }
  return jar;
}
const valueOf = (setCookie: string | undefined) => setCookie?.split(';')[0]?.split('=')[1] ?? '';

describe('gateway: the web app', () => {
  let h: Harness;
  let dist: string;
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'quizmesh-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), INDEX);
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("a line of the app");\n'.repeat(200));
    h = await startHarness({ apps: { identity: identityApp }, env: { WEB_DIST_DIR: dist, TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves index.html at / and on the app routes, revalidated every time, with a strict CSP', async () => {
    for (const path of ['/', '/quizzes/0b4d3a55-8f8e-4ad4-9b0f-1b2f3c4d5e6f/play', '/admin/dead-letters', '/login']) {
      const response = await fetch(`${h.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(await response.text()).toBe(INDEX);
    }
  });

  it('caches hashed assets for a year as immutable, and sends them compressed', async () => {
    const response = await fetch(`${h.url}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toBe('console.log("a line of the app");\n'.repeat(200));
  });

  it('keeps 404 problem+json for unknown paths, missing assets and the API', async () => {
    for (const path of ['/nope', '/assets/missing.js', '/quizzes/x.js', '/api/v1/nope', '/wp-login.php']) {
      const response = await fetch(`${h.url}${path}`);
      expect([path, response.status]).toEqual([path, 404]);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const openapi = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(openapi.headers.get('content-type')).toMatch(/^application\/json/);
  });

  describe('browser sessions', () => {
    it('signs in: the refresh token only in an httpOnly SameSite=Strict cookie on the session path', async () => {
      const response = await fetch(`${h.url}/api/v1/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' },
        body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery' }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toEqual({ tokenType: 'Bearer', accessToken: `access-${currentRefresh}`, expiresIn: 900 });
      const jar = cookiesOf(response);
      const refresh = jar.get('qm_refresh') ?? '';
      expect(refresh).toMatch(/HttpOnly/);
      expect(refresh).toMatch(/SameSite=Strict/);
      expect(refresh).toMatch(/Path=\/api\/v1\/session(;|$)/);
      // Plain HTTP here: Secure would make the browser drop it.
      expect(refresh).not.toMatch(/Secure/);
      const csrf = jar.get('qm_csrf') ?? '';
      expect(csrf).not.toMatch(/HttpOnly/);
      expect(csrf).toMatch(/SameSite=Strict/);
    });

    it('marks the cookies Secure when the request came over TLS', async () => {
      const response = await fetch(`${h.url}/api/v1/session/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-proto': 'https',
          'x-forwarded-for': '198.51.100.2',
        },
        body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery' }),
      });
      expect(cookiesOf(response).get('qm_refresh')).toMatch(/Secure/);
    });

    it("passes identity's refusals on with their status and field errors", async () => {
      const wrong = await fetch(`${h.url}/api/v1/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.3' },
        body: JSON.stringify({ email: 'ada@example.com', password: 'nope' }),
      });
      expect(wrong.status).toBe(401);
      expect(cookiesOf(wrong).size).toBe(0);
      const invalid = await fetch(`${h.url}/api/v1/session/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.3' },
        body: JSON.stringify({ email: 'ada@example.com', displayName: 'Ada', password: 'short' }),
      });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({
        errors: [{ field: 'body.password', message: 'must be at least 12 characters' }],
      });
    });

    it('refuses bad bodies with problem+json before identity is asked', async () => {
      const calls = identityCalls.length;
      const post = (headers: Record<string, string>, body: string) =>
        fetch(`${h.url}/api/v1/session/login`, {
          method: 'POST',
          headers: { 'x-forwarded-for': '198.51.100.5', ...headers },
          body,
        });
      const malformed = await post({ 'content-type': 'application/json' }, '{"email":');
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const notJson = await post({ 'content-type': 'text/plain' }, 'email=ada');
      expect(notJson.status).toBe(415);
      const tooLarge = await post(
        { 'content-type': 'application/json' },
        JSON.stringify({ email: 'x'.repeat(200_000) }),
      );
      expect(tooLarge.status).toBe(413);
      const array = await post({ 'content-type': 'application/json' }, '[1,2]');
      expect(array.status).toBe(400);
      expect(identityCalls.length).toBe(calls);
    });

    it('refreshes with rotation only with the CSRF token, from this origin', async () => {
      const login = await fetch(`${h.url}/api/v1/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.4' },
        body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery' }),
      });
      const jar = cookiesOf(login);
      const refreshToken = valueOf(jar.get('qm_refresh'));
      const csrf = valueOf(jar.get('qm_csrf'));
      const cookie = `qm_refresh=${refreshToken}; qm_csrf=${csrf}`;
      const refresh = (headers: Record<string, string>) =>
        fetch(`${h.url}/api/v1/session/refresh`, { method: 'POST', headers: { cookie, ...headers } });

      const calls = identityCalls.length;
      const forgeries: Array<Record<string, string>> = [
        {},
        { 'x-csrf-token': 'forged' },
        { 'x-csrf-token': csrf, origin: 'https://evil.example' },
      ];
      for (const headers of forgeries) {
        const refused = await refresh(headers);
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ detail: expect.stringContaining('x-csrf-token') });
      }
      expect(identityCalls.length).toBe(calls); // identity never asked

      const rotated = await refresh({ 'x-csrf-token': csrf, origin: h.url });
      expect(rotated.status).toBe(200);
      expect(((await rotated.json()) as { accessToken: string }).accessToken).toBe(`access-${currentRefresh}`);
      expect(valueOf(cookiesOf(rotated).get('qm_refresh'))).toBe(currentRefresh);
      expect(identityCalls.at(-1)).toEqual({ url: '/api/v1/auth/refresh', body: { refreshToken } });

      // The old refresh token is spent: identity refuses it and the cookies are cleared.
      const reused = await refresh({ 'x-csrf-token': csrf });
      expect(reused.status).toBe(401);
      expect(cookiesOf(reused).get('qm_refresh')).toMatch(/Expires=Thu, 01 Jan 1970/);
    });

    it('signs out: identity ends the session and the cookies go', async () => {
      const response = await fetch(`${h.url}/api/v1/session/logout`, {
        method: 'POST',
        headers: { cookie: `qm_refresh=${currentRefresh}; qm_csrf=abc`, 'x-csrf-token': 'abc' },
      });
      expect(response.status).toBe(204);
      expect(identityCalls.at(-1)).toEqual({ url: '/api/v1/auth/logout', body: { refreshToken: currentRefresh } });
      expect(cookiesOf(response).get('qm_refresh')).toMatch(/Expires=Thu, 01 Jan 1970/);
      const forged = await fetch(`${h.url}/api/v1/session/logout`, {
        method: 'POST',
        headers: { cookie: `qm_refresh=${currentRefresh}; qm_csrf=abc` },
      });
      expect(forged.status).toBe(403);
    });
  });
});
