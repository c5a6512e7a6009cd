/**
 * Access-token verification: ES256 (or RS256, when configured) JWTs signed by identity,
 * checked with `jsonwebtoken` against identity's JWKS. The algorithm allow-list never
 * contains HS* or `none`, and the key must match the token's algorithm, which closes the
 * classic "HS256 signed with the RSA public key" confusion.
 */
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { AppError, ROLES, type CallerUser } from '@quizmesh/platform';
import type { JwtAlgorithm } from '../config';
import type { JwksCache, SigningKey } from './jwks';
import type { Revocations } from './revocations';

export interface TokenVerifierOptions {
  jwks: Pick<JwksCache, 'getKey'>;
  /** per-user "not before" (tokens.revoked); none = no revocation check */
  revocations?: Pick<Revocations, 'notBefore'>;
  issuer: string;
  audience: string;
  algorithms: readonly JwtAlgorithm[];
  clockToleranceS: number;
}

/** 401 for a token that was sent but cannot be accepted (RFC 6750 §3.1 `invalid_token`). */
export function invalidToken(reason: string): AppError {
  // The reason can quote token content (a key id): keep the header value a valid quoted-string.
  const description = reason.replace(/[^\x20-\x7e]|["\\]/g, '?').slice(0, 200);
  return new AppError(401, {
    code: 'invalid-token',
    detail: `invalid access token: ${description}`,
    headers: {
      'www-authenticate': `Bearer realm="quizmesh", error="invalid_token", error_description="${description}"`,
    },
  });
}

/** 401 for a protected route called without a token (RFC 6750 §3: no error code). */
export function missingToken(): AppError {
  return new AppError(401, {
    code: 'authentication-required',
    detail: 'this endpoint requires an access token: send Authorization: Bearer <token>',
    headers: { 'www-authenticate': 'Bearer realm="quizmesh"' },
  });
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  // Unknown role names are dropped (an older gateway must not fail on a newer identity's role).
  roles: z
    .array(z.string())
    .transform((roles) =>
      roles.filter((r): r is CallerUser['roles'][number] => (ROLES as readonly string[]).includes(r)),
    ),
  // Tokens without an expiry would be valid forever.
  exp: z.number(),
  // Issue time: compared with the user's revocations (identity always sets it).
  iat: z.number(),
});

const KEY_TYPE_OF: Record<JwtAlgorithm, { kty: string; curve?: string }> = {
  ES256: { kty: 'ec', curve: 'prime256v1' },
  RS256: { kty: 'rsa' },
};

/** Extracts the token of an `Authorization: Bearer <token>` header; undefined when there is no header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9_~+/.=-]+) *$/i.exec(header);
  if (!match?.[1]) throw invalidToken('the Authorization header is not "Bearer <token>"');
  return match[1];
}

/** A verified token: who it identifies and until when. */
export interface VerifiedToken {
  user: CallerUser;
  /** the `exp` claim in epoch milliseconds (long-lived connections end there) */
  expiresAtMs: number;
}

export class TokenVerifier {
  constructor(private readonly options: TokenVerifierOptions) {}

  /** The caller the token identifies; throws 401 (invalid_token) or 503 (keys unavailable). */
  async verify(token: string): Promise<CallerUser> {
    return (await this.verifyToken(token)).user;
  }

  /** `verify`, with the token's expiry. */
  async verifyToken(token: string): Promise<VerifiedToken> {
    const decoded = decodeUnverified(token);
    if (decoded === null || typeof decoded.payload === 'string') throw invalidToken('malformed token');
    const { alg, kid } = decoded.header;
    // RFC 7515 §4.1.11: a `crit` header names extensions the verifier must understand; we
    // understand none, so any `crit` (even an empty or malformed one) is refused.
    if ('crit' in decoded.header) throw invalidToken('critical header parameters are not supported');
    const algorithm = this.options.algorithms.find((a) => a === alg);
    if (!algorithm) throw invalidToken(`algorithm ${alg} is not accepted`);
    if (typeof kid !== 'string' || kid === '') throw invalidToken('token has no key id (kid)');
    const signingKey = await this.options.jwks.getKey(kid);
    if (!signingKey) throw invalidToken(`unknown key id ${kid}`);
    assertKeyFits(signingKey, algorithm);

    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, signingKey.key, {
        algorithms: [algorithm],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceS,
      });
    } catch (err) {
      throw invalidToken(describeFailure(err));
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      throw invalidToken(
        `claims: ${claims.error.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join(', ')}`,
      );
    }
    // jsonwebtoken checks exp and nbf but not iat: a token "issued" in the future would outlive
    // revocations and signing-key rotations made before that time.
    const nowS = Math.floor(Date.now() / 1000);
    if (claims.data.iat > nowS + this.options.clockToleranceS) throw invalidToken('token issued in the future (iat)');
    const notBefore = await this.options.revocations?.notBefore(claims.data.sub);
    if (notBefore !== undefined && claims.data.iat < notBefore) throw invalidToken('token revoked');
    return { user: { id: claims.data.sub, roles: claims.data.roles }, expiresAtMs: claims.data.exp * 1000 };
  }
}

/** The header and payload before verification; jsonwebtoken throws on a part that is not JSON. */
function decodeUnverified(token: string): jwt.Jwt | null {
  try {
    return jwt.decode(token, { complete: true });
  } catch {
    return null;
  }
}

function assertKeyFits(signingKey: SigningKey, algorithm: JwtAlgorithm) {
  if (signingKey.alg !== undefined && signingKey.alg !== algorithm) {
    throw invalidToken(`key ${signingKey.kid} is for ${signingKey.alg}, not ${algorithm}`);
  }
  const want = KEY_TYPE_OF[algorithm];
  const { key } = signingKey;
  if (key.asymmetricKeyType !== want.kty || (want.curve && key.asymmetricKeyDetails?.namedCurve !== want.curve)) {
    throw invalidToken(`key ${signingKey.kid} cannot verify ${algorithm}`);
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof jwt.TokenExpiredError) return 'token expired';
  if (err instanceof jwt.NotBeforeError) return 'token not yet valid';
  if (err instanceof jwt.JsonWebTokenError) {
    // jsonwebtoken's messages are short and safe ("invalid signature", "jwt issuer invalid. expected: …").
    return err.message.replace(/^jwt /, '');
  }
  return 'token could not be verified';
}
