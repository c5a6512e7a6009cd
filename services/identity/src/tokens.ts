/**
 * Access tokens (short-lived ES256 JWTs) and refresh tokens (opaque, stored hashed, rotated on
 * every use, grouped in families). See docs/decisions/0402-identity-passwords-and-refresh-tokens.md.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { TokenResponse } from '@quizmesh/contracts/identity-api';
import { tokensRevoked, type TokensRevoked } from '@quizmesh/contracts/events';
import { enqueue } from '@quizmesh/platform/outbox';
import type { PrismaClient, Role, Tx } from './db';
import type { SigningKeys } from './signing-keys';

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    readonly settings: TokenSettings,
  ) {}

  async signAccessToken(userId: string, roles: readonly Role[]): Promise<string> {
    const { signing } = await this.keys.get();
    return jwt.sign({ roles }, signing.privateKey, {
      algorithm: 'ES256',
      keyid: signing.kid,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: userId,
      expiresIn: this.settings.accessTokenTtlSeconds,
      notBefore: 0,
      jwtid: randomUUID(),
    });
  }

  /** Stores a new refresh token (hash only) in `familyId`, or in a new family; returns the token. */
  async issueRefreshToken(
    tx: Tx,
    userId: string,
    familyId: string = randomUUID(),
  ): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.settings.refreshTokenTtlSeconds * 1000);
    await tx.refreshToken.create({ data: { tokenHash: hashRefreshToken(token), familyId, userId, expiresAt } });
    return { token, expiresAt };
  }

  async tokenResponse(
    userId: string,
    roles: readonly Role[],
    refresh: { token: string; expiresAt: Date },
  ): Promise<TokenResponse> {
    return {
      tokenType: 'Bearer',
      accessToken: await this.signAccessToken(userId, roles),
      expiresIn: this.settings.accessTokenTtlSeconds,
      refreshToken: refresh.token,
      refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
    };
  }
}

export type RotationOutcome =
  | { kind: 'rotated'; userId: string; roles: Role[]; refresh: { token: string; expiresAt: Date } }
  | { kind: 'unknown' | 'expired' | 'revoked' }
  | { kind: 'reused'; userId: string; familyId: string };

/**
 * Exchanges a refresh token for its successor in the same family. The exchange is a
 * conditional update (only an unused, unrevoked, unexpired token flips to rotated), so of two
 * concurrent uses exactly one wins; presenting an already-rotated token is a reuse — stolen or
 * replayed — and revokes the whole family, in the same transaction.
 */
export async function rotateRefreshToken(tx: Tx, issuer: TokenIssuer, token: string): Promise<RotationOutcome> {
  const now = new Date();
  const stored = await tx.refreshToken.findUnique({
    where: { tokenHash: hashRefreshToken(token) },
    select: { id: true, familyId: true, userId: true, user: { select: { roles: true } } },
  });
  if (!stored) return { kind: 'unknown' };
  const won = await tx.refreshToken.updateMany({
    where: { id: stored.id, rotatedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { rotatedAt: now },
  });
  if (won.count === 1) {
    const refresh = await issuer.issueRefreshToken(tx, stored.userId, stored.familyId);
    return { kind: 'rotated', userId: stored.userId, roles: stored.user.roles, refresh };
  }
  const current = await tx.refreshToken.findUniqueOrThrow({
    where: { id: stored.id },
    select: { rotatedAt: true, revokedAt: true },
  });
  if (current.rotatedAt !== null) {
    await revokeFamily(tx, stored.familyId);
    await announceRevocation(tx, stored.userId, 'family-revoked');
    return { kind: 'reused', userId: stored.userId, familyId: stored.familyId };
  }
  return { kind: current.revokedAt !== null ? 'revoked' : 'expired' };
}

export async function revokeFamily(tx: Tx, familyId: string): Promise<number> {
  const { count } = await tx.refreshToken.updateMany({
    where: { familyId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return count;
}

export async function revokeAllOfUser(tx: Tx, userId: string): Promise<number> {
  const { count } = await tx.refreshToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return count;
}

/** The family (and its user) of a token, whatever its state (logout with an old token still ends the session). */
export async function familyOf(tx: Tx, token: string): Promise<{ familyId: string; userId: string } | undefined> {
  const stored = await tx.refreshToken.findUnique({
    where: { tokenHash: hashRefreshToken(token) },
    select: { familyId: true, userId: true },
  });
  return stored ?? undefined;
}

/**
 * Tells the gateway, through the outbox in the same transaction, that the user's access tokens
 * issued until now are revoked (tokens.revoked): refresh tokens end in the database, but
 * access tokens are stateless and would otherwise stay valid until they expire. The access
 * tokens issued in this request (a password change) carry an `iat` of this same second or
 * later, so they stay valid. Callers wake the relay after the commit.
 */
export async function announceRevocation(tx: Tx, userId: string, reason: TokensRevoked['reason']): Promise<void> {
  await enqueue(tx, tokensRevoked, {
    schemaVersion: 1,
    userId,
    notBefore: new Date().toISOString(),
    reason,
  });
}

/** The cron binding (components/common/schedules.yaml, the chart's `schedules`) that triggers the purge. */
export const REFRESH_TOKEN_PURGE_BINDING = 'refresh-token-purge';
const PURGE_FAMILIES_PER_STATEMENT = 1_000;

/**
 * Deletes refresh-token families that ended more than `retentionSeconds` ago: every token of
 * the family expired or was revoked by then. A family with one live token is kept whole, so
 * presenting one of its old, rotated tokens is still recognised as a reuse and revokes it.
 * Batched, so one run never holds many row locks; safe to run in several replicas at once.
 */
export async function purgeEndedRefreshTokenFamilies(
  prisma: PrismaClient,
  retentionSeconds: number,
): Promise<{ deletedTokens: number }> {
  let deletedTokens = 0;
  for (;;) {
    const deleted = await prisma.$executeRaw`
      DELETE FROM "RefreshToken" WHERE "familyId" IN (
        SELECT "familyId" FROM "RefreshToken"
        GROUP BY "familyId"
        HAVING max(CASE WHEN "revokedAt" IS NULL THEN "expiresAt" ELSE least("revokedAt", "expiresAt") END)
          < now() - make_interval(secs => ${retentionSeconds}::float8)
        LIMIT ${PURGE_FAMILIES_PER_STATEMENT}::int)`;
    deletedTokens += deleted;
    if (deleted === 0) return { deletedTokens };
  }
}
