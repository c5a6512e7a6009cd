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
  /** verified tokens kept (decision 0971); 0 = verify every time */
  maxCachedTokens?: number;
  now?: () => number;
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

/** A token whose signature and claims were verified once; what is re-checked on each use. */
interface VerifiedEntry {
  verified: VerifiedToken;
  /** the key it was verified with: a JWKS refresh that drops or replaces it ends the entry */
  signingKey: SigningKey;
  kid: string;
  iatS: number;
}

export class TokenVerifier {
  /**
   * Verified tokens by their exact text (signature included, so a changed token never hits),
   * until their `exp`, at most `maxCachedTokens` (the oldest verified dropped first). A hit
   * skips the ES256 signature check and the claim parsing, never the key's presence in the
   * current JWKS nor the user's revocation "not before" (decision 0731): both are re-checked on
   * every request, as on a miss.
   */
  private readonly verified = new Map<string, VerifiedEntry>();
  private readonly maxCachedTokens: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenVerifierOptions) {
    this.maxCachedTokens = options.maxCachedTokens ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The caller the token identifies; throws 401 (invalid_token) or 503 (keys unavailable). */
  async verify(token: string): Promise<CallerUser> {
    return (await this.verifyToken(token)).user;
  }

  /** `verify`, with the token's expiry. */
  async verifyToken(token: string): Promise<VerifiedToken> {
    const entry = this.verified.get(token);
    if (entry) {
      if (entry.verified.expiresAtMs > this.now() && (await this.options.jwks.getKey(entry.kid)) === entry.signingKey) {
        await this.assertNotRevoked(entry.verified.user.id, entry.iatS);
        return entry.verified;
      }
      // Expired (the full check below applies the clock tolerance) or its key rotated: verify afresh.
      this.verified.delete(token);
    }
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
        clockTimestamp: Math.floor(this.now() / 1000),
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
    const nowS = Math.floor(this.now() / 1000);
    if (claims.data.iat > nowS + this.options.clockToleranceS) throw invalidToken('token issued in the future (iat)');
    await this.assertNotRevoked(claims.data.sub, claims.data.iat);
    const verified = { user: { id: claims.data.sub, roles: claims.data.roles }, expiresAtMs: claims.data.exp * 1000 };
    this.remember(token, { verified, signingKey, kid, iatS: claims.data.iat });
    return verified;
  }

  private async assertNotRevoked(userId: string, iatS: number): Promise<void> {
    const notBefore = await this.options.revocations?.notBefore(userId);
    if (notBefore !== undefined && iatS < notBefore) throw invalidToken('token revoked');
  }

  private remember(token: string, entry: VerifiedEntry): void {
    if (this.maxCachedTokens <= 0) return;
    this.verified.set(token, entry);
    if (this.verified.size > this.maxCachedTokens) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
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
