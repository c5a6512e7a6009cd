/** A deployment whose secret store lacks the signing keys: not ready, and nothing is written. */
import request from 'supertest';
import { rowCounts, startIdentity, type IdentityUnderTest } from './harness';

let identity: IdentityUnderTest;

beforeAll(async () => {
  identity = await startIdentity({ signingKeys: 'missing' });
});
afterAll(async () => {
  await identity?.stop();
});

it('reports not ready, naming the signing keys', async () => {
  const res = await request(identity.url).get('/readyz');
  expect(res.status).toBe(503);
  expect(res.body.checks).toMatchObject({
    database: { status: 'ok' },
    sidecar: { status: 'ok' },
    'signing-keys': { status: 'failing' },
  });
});

it('answers 503 problem+json to register, login and the JWKS without writing a row', async () => {
  const before = await rowCounts(identity.prisma);
  const register = await request(identity.url)
    .post('/api/v1/auth/register')
    .send({ email: 'early@example.com', displayName: 'Early', password: 'correct horse battery' });
  expect(register.status).toBe(503);
  expect(register.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(register.body.detail).toBe('signing keys are not available yet');
  expect(
    (
      await request(identity.url)
        .post('/api/v1/auth/login')
        .send({ email: 'early@example.com', password: 'whatever it is' })
    ).status,
  ).toBe(503);
  expect((await request(identity.url).get('/.well-known/jwks.json')).status).toBe(503);
  expect(await rowCounts(identity.prisma)).toEqual(before);
});
