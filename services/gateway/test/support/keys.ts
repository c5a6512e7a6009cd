/** Signing keys and tokens for tests: the test plays identity's role (its JWKS and its tokens). */
import { generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const TEST_ISSUER = 'quizmesh-identity';
export const TEST_AUDIENCE = 'quizmesh-api';

export interface TestKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** the public JWK as identity publishes it */
  jwk: JsonWebKey & { kid: string; alg: string; use: 'sig' };
}

function testKey(kid: string, alg: 'ES256' | 'RS256', pair: { privateKey: KeyObject; publicKey: KeyObject }): TestKey {
  const { privateKey, publicKey } = pair;
  return { kid, alg, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

export function ecKey(kid = `ec-${randomUUID()}`): TestKey {
  return testKey(kid, 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
}

export function rsaKey(kid = `rsa-${randomUUID()}`): TestKey {
  return testKey(kid, 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }));
}

export function jwks(...keys: TestKey[]) {
  return { keys: keys.map((k) => k.jwk) };
}

export interface TokenOptions {
  sub?: string;
  roles?: string[];
  issuer?: string;
  audience?: string;
  /** seconds from now; negative = already expired */
  expiresInS?: number;
  /** seconds from now */
  notBeforeS?: number;
  /** override the header's kid (undefined → the key's kid, null → no kid) */
  kid?: string | null;
  extraClaims?: Record<string, unknown>;
}

/** A token as identity issues it (ES256 or RS256 by the key), adjustable for bad-token cases. */
export function signToken(key: TestKey, options: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sub: options.sub ?? randomUUID(),
    roles: options.roles ?? ['player'],
    iss: options.issuer ?? TEST_ISSUER,
    aud: options.audience ?? TEST_AUDIENCE,
    iat: now,
    exp: now + (options.expiresInS ?? 300),
    ...(options.notBeforeS !== undefined ? { nbf: now + options.notBeforeS } : {}),
    jti: randomUUID(),
    ...options.extraClaims,
  };
  const kid = options.kid === undefined ? key.kid : options.kid;
  // `extraClaims: { exp: undefined }` removes a claim.
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return jwt.sign(payload, key.privateKey, { algorithm: key.alg, ...(kid === null ? {} : { keyid: kid }) });
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token built by hand (for `alg: none` and HS256 key-confusion attacks jsonwebtoken refuses to sign). */
export function handmadeToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = '',
): string {
  return `${base64url(header)}.${base64url(payload)}.${signature}`;
}

export function standardClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: randomUUID(),
    roles: ['admin'],
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}
