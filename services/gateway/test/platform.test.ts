/**
 * End to end through HTTP: the real gateway and the real identity service, each with its
 * local sidecar and identity's embedded database, started by the launcher as `npm start` does.
 */
import { execFileSync } from 'node:child_process';
import { startPlatform, type StartedPlatform } from '@quizmesh/launcher';

/** Gateway settings for this run. The launcher passes its own environment to the services it starts. */
const GATEWAY_ENV = { LOGIN_RATE_LIMIT: '3', LOGIN_RATE_LIMIT_WINDOW_S: '2' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid of the process listening on `port` (a service the launcher started for this test). */
function listenerPid(port: number): number {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`nothing listens on port ${port}: ${out}`);
  return Number(pid);
}

describe('gateway + identity through the launcher', () => {
  let platform: StartedPlatform;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    for (const [name, value] of Object.entries(GATEWAY_ENV)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    try {
      platform = await startPlatform({ services: ['identity'] });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }, 120_000);
  afterAll(() => platform?.stop(), 60_000);

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${platform.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const account = { email: 'ada@example.com', displayName: 'Ada Lovelace', password: 'analytical engine 1843' };
  let accessToken = '';

  it('registers and logs in through the gateway', async () => {
    const registered = await post('/api/v1/auth/register', account);
    expect(registered.status).toBe(201);
    expect(await registered.json()).toMatchObject({
      user: { email: 'ada@example.com', roles: ['player'] },
      tokens: { tokenType: 'Bearer' },
    });

    const login = await post('/api/v1/auth/login', { email: account.email, password: account.password });
    expect(login.status).toBe(200);
    accessToken = ((await login.json()) as { accessToken: string }).accessToken;
    expect(accessToken.split('.')).toHaveLength(3);
  });

  it('shows the profile to the holder of the token', async () => {
    for (const path of ['/api/v1/users/me', '/api/users/profile']) {
      const res = await fetch(`${platform.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect([path, res.status]).toEqual([path, 200]);
      expect(await res.json()).toMatchObject({
        email: 'ada@example.com',
        displayName: 'Ada Lovelace',
        roles: ['player'],
      });
    }
  });

  it('answers 401 for a tampered token', async () => {
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['player', 'admin'] })).toString('base64url');
    const res = await fetch(`${platform.gatewayUrl}/api/v1/users/me`, {
      headers: { authorization: `Bearer ${header}.${forged}.${signature}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(await res.json()).toMatchObject({ status: 401, detail: 'invalid access token: invalid signature' });
  });

  it('answers 403 when a player calls an admin endpoint', async () => {
    const res = await fetch(`${platform.gatewayUrl}/api/v1/admin/users`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('stops a brute-force login with 429, and lets the owner in after the window', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push((await post('/api/v1/auth/login', { email: account.email, password: `wrong guess ${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const blocked = await post('/api/v1/auth/login', { email: account.email, password: account.password });
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    await sleep(retryAfter * 1000 + 200);
    expect((await post('/api/v1/auth/login', { email: account.email, password: account.password })).status).toBe(200);
  });

  it('answers 503 problem+json when identity is stopped', async () => {
    const identity = platform.endpoints.identity;
    if (!identity) throw new Error('identity did not start');
    process.kill(listenerPid(Number(new URL(identity.appUrl).port)), 'SIGTERM');
    // Until the process has exited, it may still answer (draining); then its sidecar cannot reach it.
    let res: Response | undefined;
    for (let i = 0; i < 50; i += 1) {
      res = await post('/api/v1/auth/login', { email: 'someone@example.com', password: 'whatever it is' });
      if (res.status === 503) break;
      await sleep(100);
    }
    expect(res?.status).toBe(503);
    expect(res?.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res?.json()).toMatchObject({ status: 503, detail: 'identity is unavailable' });
  });
});
