/**
 * identity behind the real gateway, each with its local sidecar and identity's embedded
 * database, started by the launcher exactly as `npm start` does. What the gateway adds is
 * covered in services/gateway/test; this suite checks that identity's contract survives the
 * hop: statuses, Location, problem+json bodies, the JWKS the gateway verifies with, refresh
 * rotation and reuse detection, the seed paths.
 */
import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startPlatform, type StartedPlatform } from '@quizmesh/launcher';
import { jwksSchema, registerResponseSchema, tokenResponseSchema } from '@quizmesh/contracts/identity-api';

const PASSWORD = 'analytical engine 1843';
const registration = (email: string, displayName: string) => ({ email, displayName, password: PASSWORD });
const ADMIN_EMAIL = 'gateway.admin@example.com';

let platform: StartedPlatform;

beforeAll(async () => {
  platform = await startPlatform({
    services: ['identity'],
    serviceEnv: { identity: { IDENTITY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL } },
  });
}, 120_000);
afterAll(() => platform?.stop(), 60_000);

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${platform.gatewayUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

async function register(email: string) {
  const res = await call('POST', '/api/v1/auth/register', { email, displayName: 'Ada', password: PASSWORD });
  expect(res.status).toBe(201);
  return { location: res.headers.get('location'), body: registerResponseSchema.parse(await res.json()) };
}

describe('identity through the gateway', () => {
  it('registers (201 with Location) and issues an access token that the published JWKS verifies', async () => {
    const { location, body } = await register('ada@example.com');
    expect(location).toBe(`/api/v1/users/${body.user.id}`);

    const jwksRes = await call('GET', '/.well-known/jwks.json');
    expect(jwksRes.status).toBe(200);
    const jwks = jwksSchema.parse(await jwksRes.json());
    const kid = jwt.decode(body.tokens.accessToken, { complete: true })?.header.kid;
    const key = jwks.keys.find((k) => k.kid === kid);
    if (!key) throw new Error(`the gateway's JWKS has no key ${String(kid)}`);
    const claims = jwt.verify(body.tokens.accessToken, createPublicKey({ key, format: 'jwk' }), {
      algorithms: ['ES256'],
      issuer: 'quizmesh-identity',
      audience: 'quizmesh-api',
    });
    expect(claims).toMatchObject({ sub: body.user.id, roles: ['player'] });
  });

  it('passes identity problems through unchanged: 409, 401 and 400 naming the field', async () => {
    const duplicate = await call('POST', '/api/v1/auth/register', registration('ADA@example.com', 'Twin'));
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const wrong = await call('POST', '/api/v1/auth/login', { email: 'ada@example.com', password: 'not the password' });
    expect(wrong.status).toBe(401);

    const invalid = await call('POST', '/api/v1/auth/register', registration('not-an-email', 'X'));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ errors: [{ field: 'body.email' }] });

    const malformed = await call('POST', '/api/v1/auth/login', '{"email":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('rotates refresh tokens and revokes the family on reuse', async () => {
    const login = await call('POST', '/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD });
    expect(login.status).toBe(200);
    const first = tokenResponseSchema.parse(await login.json());
    const rotated = await call('POST', '/api/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(rotated.status).toBe(200);
    const second = tokenResponseSchema.parse(await rotated.json());
    expect((await call('POST', '/api/v1/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);
    expect((await call('POST', '/api/v1/auth/refresh', { refreshToken: second.refreshToken })).status).toBe(401);
  });

  it('logs out one device', async () => {
    const tokens = tokenResponseSchema.parse(
      await (await call('POST', '/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).json(),
    );
    expect((await call('POST', '/api/v1/auth/logout', { refreshToken: tokens.refreshToken })).status).toBe(204);
    expect((await call('POST', '/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })).status).toBe(401);
  });

  it('serves the seed paths as plain pass-throughs', async () => {
    const registered = await call('POST', '/api/users/register', registration('grace@example.com', 'Grace'));
    expect(registered.status).toBe(201);
    const login = await call('POST', '/api/users/login', { email: 'grace@example.com', password: PASSWORD });
    expect(login.status).toBe(200);
    tokenResponseSchema.parse(await login.json());
  });

  it('lets the token holder read their profile, keeps other players out, and lets an admin list accounts', async () => {
    const admin = await register(ADMIN_EMAIL);
    const player = tokenResponseSchema.parse(
      await (await call('POST', '/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).json(),
    );
    const me = await call('GET', '/api/v1/users/me', undefined, { authorization: `Bearer ${player.accessToken}` });
    expect(me.status).toBe(200);
    const profile = (await me.json()) as { id: string; email: string };
    expect(profile).toMatchObject({ email: 'ada@example.com' });
    const asPlayer = { authorization: `Bearer ${player.accessToken}` };
    const asAdmin = { authorization: `Bearer ${admin.body.tokens.accessToken}` };
    expect((await call('GET', '/api/users/profile', undefined, asPlayer)).status).toBe(200);

    // Another player's account: 403; the admin may read it.
    expect((await call('GET', `/api/v1/users/${admin.body.user.id}`, undefined, asPlayer)).status).toBe(403);
    expect((await call('GET', `/api/v1/users/${profile.id}`, undefined, asAdmin)).status).toBe(200);

    const list = await call('GET', '/api/v1/admin/users?limit=1', undefined, asAdmin);
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({
      items: [expect.objectContaining({ email: expect.any(String) })],
      nextCursor: expect.any(String),
    });

    // logout-all through the gateway ends every session of the player.
    const session = tokenResponseSchema.parse(
      await (await call('POST', '/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).json(),
    );
    expect((await call('POST', '/api/v1/auth/logout-all', undefined, asPlayer)).status).toBe(204);
    expect((await call('POST', '/api/v1/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
  });
});
