/** Access-token verification: every way a token can be bad is a 401 naming the reason. */
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { AppError } from '@quizmesh/platform';
import { JwksCache } from '../src/auth/jwks';
import { Revocations } from '../src/auth/revocations';
import { bearerToken, TokenVerifier } from '../src/auth/tokens';
import type { JwtAlgorithm } from '../src/config';
import {
  ecKey,
  handmadeToken,
  jwks,
  rsaKey,
  signToken,
  standardClaims,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestKey,
} from './support/keys';

const logger = pino({ level: 'silent' });
const es = ecKey();
const rs = rsaKey();

function verifierFor(keys: TestKey[], algorithms: JwtAlgorithm[] = ['ES256']) {
  const jwksCache = new JwksCache({
    fetchJwks: async () => jwks(...keys),
    ttlMs: 60_000,
    refetchIntervalMs: 60_000,
    logger,
  });
  return new TokenVerifier({
    jwks: jwksCache,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    algorithms,
    clockToleranceS: 5,
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the token to be rejected');
}

async function expectInvalid(token: string, reason: RegExp, verifier = verifierFor([es, rs])) {
  const error = await rejection(verifier.verify(token));
  expect(error.status).toBe(401);
  expect(error.code).toBe('invalid-token');
  expect(error.detail).toMatch(reason);
  expect(error.headers['www-authenticate']).toMatch(
    /^Bearer realm="quizmesh", error="invalid_token", error_description="[^"]+"$/,
  );
}

describe('TokenVerifier', () => {
  it('accepts a valid ES256 token and returns its subject and roles', async () => {
    const token = signToken(es, { sub: 'user-1', roles: ['player', 'author'] });
    await expect(verifierFor([es]).verify(token)).resolves.toEqual({ id: 'user-1', roles: ['player', 'author'] });
  });

  it('drops role names it does not know', async () => {
    const token = signToken(es, { sub: 'user-1', roles: ['player', 'superuser'] });
    await expect(verifierFor([es]).verify(token)).resolves.toEqual({ id: 'user-1', roles: ['player'] });
  });

  it('accepts RS256 only when configured', async () => {
    const token = signToken(rs, { sub: 'user-2' });
    await expect(verifierFor([es, rs], ['ES256', 'RS256']).verify(token)).resolves.toMatchObject({ id: 'user-2' });
    await expectInvalid(token, /algorithm RS256 is not accepted/, verifierFor([es, rs], ['ES256']));
  });

  it('rejects an expired token', async () => {
    await expectInvalid(signToken(es, { expiresInS: -60 }), /token expired/);
  });

  it('rejects a token that is not valid yet', async () => {
    await expectInvalid(signToken(es, { notBeforeS: 120 }), /token not yet valid/);
  });

  it('tolerates a few seconds of clock skew', async () => {
    await expect(verifierFor([es]).verify(signToken(es, { expiresInS: -2 }))).resolves.toBeDefined();
  });

  it('rejects the wrong issuer', async () => {
    await expectInvalid(signToken(es, { issuer: 'someone-else' }), /issuer invalid/);
  });

  it('rejects the wrong audience', async () => {
    await expectInvalid(signToken(es, { audience: 'another-api' }), /audience invalid/);
  });

  it('rejects alg "none"', async () => {
    const token = handmadeToken({ alg: 'none', typ: 'JWT', kid: es.kid }, standardClaims());
    await expectInvalid(token, /algorithm none is not accepted/);
  });

  it('rejects HS256 tokens signed with a published public key (algorithm confusion)', async () => {
    for (const key of [rs, es]) {
      const header = { alg: 'HS256', typ: 'JWT', kid: key.kid };
      const unsigned = handmadeToken(header, standardClaims()).slice(0, -1);
      const secret = key.publicKey.export({ type: 'spki', format: 'pem' });
      const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
      await expectInvalid(
        `${unsigned}.${signature}`,
        /algorithm HS256 is not accepted/,
        verifierFor([es, rs], ['ES256', 'RS256']),
      );
    }
  });

  it('rejects a token whose key id names a key of another type', async () => {
    // Signed with the RSA key but claiming ES256 under the RSA key's kid.
    const unsigned = handmadeToken({ alg: 'ES256', typ: 'JWT', kid: rs.kid }, standardClaims()).slice(0, -1);
    await expectInvalid(
      `${unsigned}.AAAA`,
      new RegExp(`key ${rs.kid} is for RS256, not ES256`),
      verifierFor([es, rs], ['ES256', 'RS256']),
    );
    const noAlgOnKey = { ...rs, jwk: { ...rs.jwk, alg: undefined } } as unknown as TestKey;
    await expectInvalid(`${unsigned}.AAAA`, /cannot verify ES256/, verifierFor([es, noAlgOnKey], ['ES256', 'RS256']));
  });

  it('rejects an unknown key id', async () => {
    await expectInvalid(signToken(ecKey('not-published')), /unknown key id not-published/);
  });

  it('rejects a token without a key id', async () => {
    await expectInvalid(signToken(es, { kid: null }), /no key id/);
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [header, , signature] = signToken(es, { roles: ['player'] }).split('.');
    const forged = Buffer.from(JSON.stringify(standardClaims({ roles: ['admin'] }))).toString('base64url');
    await expectInvalid(`${header}.${forged}.${signature}`, /invalid signature/);
  });

  it('rejects a token whose signature was changed', async () => {
    const token = signToken(es);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    await expectInvalid(`${token.slice(0, -2)}${last}${token.at(-1)}`, /invalid signature/);
  });

  it('rejects a token signed by another key under a published key id', async () => {
    await expectInvalid(signToken({ ...ecKey(es.kid), kid: es.kid }), /invalid signature/);
  });

  it('rejects a token without an expiry', async () => {
    const token = signToken(es, { extraClaims: { exp: undefined } });
    await expectInvalid(token, /claims: exp/);
  });

  it('rejects a token without a subject', async () => {
    await expectInvalid(signToken(es, { sub: '' }), /claims: sub/);
  });

  it('rejects garbage', async () => {
    await expectInvalid('not-a-jwt', /malformed token/);
    // Parts that decode to something that is not JSON.
    await expectInvalid('eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln', /malformed token/);
    await expectInvalid('bm90IGpzb24.e30.c2ln', /malformed token/);
  });

  it('answers 503, not 401, while identity has never delivered its keys', async () => {
    const cache = new JwksCache({
      fetchJwks: () => Promise.reject(new Error('identity down')),
      ttlMs: 60_000,
      refetchIntervalMs: 1,
      logger,
    });
    const verifier = new TokenVerifier({
      jwks: cache,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      algorithms: ['ES256'],
      clockToleranceS: 0,
    });
    const error = await rejection(verifier.verify(signToken(es)));
    expect(error.status).toBe(503);
    expect(error.code).toBe('signing-keys-unavailable');
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header, case-insensitively', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Token abc'])('rejects %j with invalid_token', (header) => {
    expect(() => bearerToken(header)).toThrow(expect.objectContaining({ status: 401, code: 'invalid-token' }));
  });
});

describe('TokenVerifier: header and issue-time checks, revocations (issue 11)', () => {
  it('rejects a token with a crit header parameter it does not understand', async () => {
    const token = jwt.sign(standardClaims(), es.privateKey, {
      algorithm: 'ES256',
      keyid: es.kid,
      header: { alg: 'ES256', kid: es.kid, crit: ['urn:example:must-understand'], 'urn:example:must-understand': 1 },
    } as jwt.SignOptions);
    await expectInvalid(token, /critical header parameters/);
  });

  it('rejects a token issued in the future beyond the clock tolerance, and accepts one within it', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectInvalid(signToken(es, { extraClaims: { iat: now + 3600 } }), /issued in the future/);
    await expect(verifierFor([es]).verify(signToken(es, { extraClaims: { iat: now + 3 } }))).resolves.toBeDefined();
  });

  it("rejects the user's tokens issued before their revocation, and accepts later ones", async () => {
    const notBefore = new Map<string, number>();
    const verifier = new TokenVerifier({
      jwks: new JwksCache({ fetchJwks: async () => jwks(es), ttlMs: 60_000, refetchIntervalMs: 60_000, logger }),
      revocations: { notBefore: async (userId) => notBefore.get(userId) },
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      algorithms: ['ES256'],
      clockToleranceS: 5,
    });
    const now = Math.floor(Date.now() / 1000);
    const old = signToken(es, { sub: 'user-r', extraClaims: { iat: now - 60 } });
    const other = signToken(es, { sub: 'user-s', extraClaims: { iat: now - 60 } });
    notBefore.set('user-r', now - 10);
    await expectInvalid(old, /token revoked/, verifier);
    await expect(verifier.verify(other)).resolves.toMatchObject({ id: 'user-s' });
    await expect(verifier.verify(signToken(es, { sub: 'user-r' }))).resolves.toMatchObject({ id: 'user-r' });
  });
});

describe('TokenVerifier cache of verified tokens', () => {
  function cachingVerifier(options: { keys?: () => TestKey[]; notBefore?: Map<string, number> } = {}) {
    let nowMs = Date.now();
    const notBefore = options.notBefore ?? new Map<string, number>();
    const verifier = new TokenVerifier({
      jwks: new JwksCache({
        fetchJwks: async () => jwks(...(options.keys?.() ?? [es])),
        ttlMs: 60_000,
        refetchIntervalMs: 60_000,
        logger,
        now: () => nowMs,
      }),
      revocations: { notBefore: async (userId) => notBefore.get(userId) },
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      algorithms: ['ES256'],
      clockToleranceS: 5,
      now: () => nowMs,
    });
    return { verifier, notBefore, advance: (ms: number) => (nowMs += ms) };
  }

  afterEach(() => jest.restoreAllMocks());

  it('checks a token’s signature once, not on every request', async () => {
    const { verifier } = cachingVerifier();
    const signatureChecks = jest.spyOn(jwt, 'verify');
    const token = signToken(es, { sub: 'user-c', roles: ['player'] });
    for (let i = 0; i < 3; i += 1)
      await expect(verifier.verify(token)).resolves.toEqual({ id: 'user-c', roles: ['player'] });
    expect(signatureChecks).toHaveBeenCalledTimes(1);
  });

  it('still refuses a cached token once its user revoked their tokens', async () => {
    const { verifier, notBefore } = cachingVerifier();
    const now = Math.floor(Date.now() / 1000);
    const token = signToken(es, { sub: 'user-v', extraClaims: { iat: now - 60 } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ id: 'user-v' });
    notBefore.set('user-v', now - 10);
    await expectInvalid(token, /token revoked/, verifier);
  });

  it('refuses a cached token after its expiry', async () => {
    const { verifier, advance } = cachingVerifier();
    const token = signToken(es, { expiresInS: 60 });
    await expect(verifier.verify(token)).resolves.toBeDefined();
    advance(70_000);
    await expectInvalid(token, /token expired/, verifier);
  });

  it('refuses a cached token once identity no longer publishes its key', async () => {
    const other = ecKey();
    let published = [es];
    const { verifier, advance } = cachingVerifier({ keys: () => published });
    const token = signToken(es);
    await expect(verifier.verify(token)).resolves.toBeDefined();
    published = [other];
    // Past the JWKS TTL: the keys are fetched again and es is gone.
    advance(61_000);
    await expectInvalid(token, /unknown key id/, verifier);
  });

  it('never answers a changed token from the cache', async () => {
    const { verifier } = cachingVerifier();
    const token = signToken(es, { roles: ['player'] });
    await verifier.verify(token);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'x', roles: ['admin'] })).toString('base64url')}.${signature}`;
    await expectInvalid(forged, /invalid signature|claims/, verifier);
  });
});

describe('Revocations', () => {
  const store = () => {
    const values = new Map<string, number>();
    let reads = 0;
    return {
      values,
      reads: () => reads,
      get: async (userId: string) => {
        reads += 1;
        return values.get(userId);
      },
      set: async (userId: string, value: number) => {
        values.set(userId, value);
      },
    };
  };

  it('applies an event at once, stores it, and never lowers a later value', async () => {
    const s = store();
    const revocations = new Revocations({ store: s, cacheTtlMs: 60_000, logger });
    expect(await revocations.notBefore('u')).toBeUndefined();
    await revocations.revoke('u', 200);
    expect(await revocations.notBefore('u')).toBe(200);
    await revocations.revoke('u', 100);
    expect(await revocations.notBefore('u')).toBe(200);
    expect(s.values.get('u')).toBe(200);
  });

  it('reads a revocation another replica stored once the cached value is older than the TTL', async () => {
    const s = store();
    let now = 0;
    const revocations = new Revocations({ store: s, cacheTtlMs: 1_000, logger, now: () => now });
    expect(await revocations.notBefore('u')).toBeUndefined();
    s.values.set('u', 300);
    expect(await revocations.notBefore('u')).toBeUndefined();
    now = 1_000;
    expect(await revocations.notBefore('u')).toBe(300);
    expect(s.reads()).toBe(2);
  });

  it('keeps the last known value when the store cannot be read', async () => {
    let now = 0;
    const failing = {
      get: async () => {
        if (now > 0) throw new Error('state store down');
        return 50;
      },
      set: async () => undefined,
    };
    const revocations = new Revocations({ store: failing, cacheTtlMs: 10, logger, now: () => now });
    expect(await revocations.notBefore('u')).toBe(50);
    now = 100;
    expect(await revocations.notBefore('u')).toBe(50);
  });
});
