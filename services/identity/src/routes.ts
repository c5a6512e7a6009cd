/** The identity HTTP API (contracts: @quizmesh/contracts/identity-api). */
import type { Express, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import {
  AppError,
  decodeCursor,
  encodeCursor,
  mountOperations,
  parseBody,
  parseParams,
  parseQuery,
  requireRole,
  requireSelfOrAdmin,
  requireUser,
  requestLogger,
  requestTraceContext,
} from '@quizmesh/platform';
import { enqueue, type OutboxRelay } from '@quizmesh/platform/outbox';
import { userRenamed, userRegistered } from '@quizmesh/contracts/events';
import { identityApp } from '@quizmesh/contracts/registry';
import {
  changePasswordRequestSchema,
  listUsersQuerySchema,
  loginRequestSchema,
  logoutRequestSchema,
  refreshRequestSchema,
  registerRequestSchema,
  setRolesRequestSchema,
  updateProfileRequestSchema,
  userIdParamsSchema,
} from '@quizmesh/contracts/identity-api';
import { isRecordNotFound, isUniqueViolation } from '@quizmesh/platform/db';
import type { PrismaClient, Role } from './db';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './passwords';
import { profileSelect, toProfile } from './profiles';
import type { SigningKeys } from './signing-keys';
import {
  announceRevocation,
  familyOf,
  revokeAllOfUser,
  revokeFamily,
  rotateRefreshToken,
  type TokenIssuer,
} from './tokens';

export interface IdentityDeps {
  prisma: PrismaClient;
  tokens: TokenIssuer;
  keys: SigningKeys;
  logger: Logger;
  /** woken after a commit that enqueued events; absent in tests that publish by hand */
  relay?: Pick<OutboxRelay, 'wake'>;
  bootstrapAdminEmail?: string | undefined;
}

const INVALID_CREDENTIALS = 'invalid email or password';
const INVALID_REFRESH = 'the refresh token is invalid, expired or revoked';

const log = (req: Request, fallback: Logger): Logger => requestLogger(req, fallback);

export function mountIdentityRoutes(app: Express, deps: IdentityDeps): void {
  const { prisma, tokens, keys } = deps;

  /**
   * Handlers that write and then sign load the keys first: a 503 (keys never loaded) must come
   * before the write, or a refresh would rotate the token and then fail to hand out its successor.
   * Once loaded, `keys.get()` never fails (a failed refresh keeps the last good keys).
   */
  const signingKeysReady = () => keys.get();

  const register: RequestHandler = async (req, res) => {
    const body = parseBody(req, registerRequestSchema);
    await signingKeysReady();
    const roles: Role[] = body.email === deps.bootstrapAdminEmail ? ['player', 'admin'] : ['player'];
    // Hash outside the transaction: it is the slow part and needs no database.
    const passwordHash = await hashPassword(body.password);
    const created = await prisma
      .$transaction(async (tx) => {
        const user = await tx.user.create({
          data: { email: body.email, displayName: body.displayName, passwordHash, roles },
          select: profileSelect,
        });
        await enqueue(
          tx,
          userRegistered,
          {
            schemaVersion: 1,
            userId: user.id,
            email: user.email,
            displayName: user.displayName,
            roles: user.roles,
            registeredAt: user.createdAt.toISOString(),
          },
          requestTraceContext(req),
        );
        const refresh = await tokens.issueRefreshToken(tx, user.id);
        return { user, refresh };
      })
      .catch((err: unknown) => {
        // The unique index decides races between registrations of one email.
        if (isUniqueViolation(err))
          throw new AppError(409, { code: 'email-taken', detail: 'an account with this email already exists' });
        throw err;
      });
    deps.relay?.wake();
    if (roles.includes('admin')) log(req, deps.logger).warn({ userId: created.user.id }, 'bootstrap admin registered');
    res
      .status(201)
      .location(`/api/v1/users/${created.user.id}`)
      .json({
        user: toProfile(created.user),
        tokens: await tokens.tokenResponse(created.user.id, created.user.roles, created.refresh),
      });
  };

  const login: RequestHandler = async (req, res) => {
    const body = parseBody(req, loginRequestSchema);
    await signingKeysReady();
    const user = await prisma.user.findUnique({
      where: { email: body.email },
      select: { id: true, roles: true, passwordHash: true },
    });
    const valid = user
      ? await verifyPassword(user.passwordHash, body.password)
      : await verifyAgainstDummy(body.password);
    if (!user || !valid) throw AppError.unauthorized(INVALID_CREDENTIALS);
    if (needsRehash(user.passwordHash)) {
      // Only if the password did not change meanwhile (a concurrent change wins).
      const rehashed = await prisma.user.updateMany({
        where: { id: user.id, passwordHash: user.passwordHash },
        data: { passwordHash: await hashPassword(body.password) },
      });
      if (rehashed.count === 1)
        log(req, deps.logger).info({ userId: user.id }, 'password rehashed with current parameters');
    }
    const refresh = await prisma.$transaction((tx) => tokens.issueRefreshToken(tx, user.id));
    res.json(await tokens.tokenResponse(user.id, user.roles, refresh));
  };

  const refresh: RequestHandler = async (req, res) => {
    const body = parseBody(req, refreshRequestSchema);
    await signingKeysReady();
    const outcome = await prisma.$transaction((tx) => rotateRefreshToken(tx, tokens, body.refreshToken));
    if (outcome.kind === 'reused') {
      deps.relay?.wake();
      log(req, deps.logger).warn(
        { userId: outcome.userId, familyId: outcome.familyId },
        'refresh token reused: its family has been revoked',
      );
    }
    if (outcome.kind !== 'rotated') throw AppError.unauthorized(INVALID_REFRESH);
    res.json(await tokens.tokenResponse(outcome.userId, outcome.roles, outcome.refresh));
  };

  const logout: RequestHandler = async (req, res) => {
    const body = parseBody(req, logoutRequestSchema);
    // 204 whether or not the token was known: logging out is idempotent and reveals nothing.
    const revoked = await prisma.$transaction(async (tx) => {
      const family = await familyOf(tx, body.refreshToken);
      if (!family) return false;
      await revokeFamily(tx, family.familyId);
      await announceRevocation(tx, family.userId, 'logout');
      return true;
    });
    if (revoked) deps.relay?.wake();
    res.status(204).end();
  };

  const logoutAll: RequestHandler = async (req, res) => {
    const user = requireUser(req);
    await prisma.$transaction(async (tx) => {
      await revokeAllOfUser(tx, user.id);
      await announceRevocation(tx, user.id, 'logout-all');
    });
    deps.relay?.wake();
    res.status(204).end();
  };

  async function profileOf(userId: string) {
    const user = await prisma.user.findUnique({ where: { id: userId }, select: profileSelect });
    if (!user) throw AppError.notFound('no such user');
    return toProfile(user);
  }

  const getMe: RequestHandler = async (req, res) => {
    res.json(await profileOf(requireUser(req).id));
  };

  /**
   * A changed display name leaves as user.renamed in the same transaction (evaluation
   * renames the player on the leaderboards). `changedAt` is read after the row lock, so the
   * later of two concurrent changes carries the later time and wins downstream too.
   */
  const updateMe: RequestHandler = async (req, res) => {
    const caller = requireUser(req);
    const body = parseBody(req, updateProfileRequestSchema);
    const { user, changed } = await prisma.$transaction(async (tx) => {
      const [current] = await tx.$queryRaw<Array<{ displayName: string; now: Date }>>`
        SELECT "displayName", clock_timestamp() AS "now" FROM "User" WHERE "id" = ${caller.id}::uuid FOR UPDATE`;
      if (!current) throw AppError.notFound('no such user');
      if (body.displayName === undefined || body.displayName === current.displayName) {
        return {
          user: await tx.user.findUniqueOrThrow({ where: { id: caller.id }, select: profileSelect }),
          changed: false,
        };
      }
      const updated = await tx.user.update({
        where: { id: caller.id },
        data: { displayName: body.displayName },
        select: profileSelect,
      });
      await enqueue(
        tx,
        userRenamed,
        {
          schemaVersion: 1,
          userId: updated.id,
          displayName: updated.displayName,
          changedAt: current.now.toISOString(),
        },
        { traceparent: req.header('traceparent'), tracestate: req.header('tracestate') },
      );
      return { user: updated, changed: true };
    });
    if (changed) deps.relay?.wake();
    res.json(toProfile(user));
  };

  const changePassword: RequestHandler = async (req, res) => {
    const caller = requireUser(req);
    const body = parseBody(req, changePasswordRequestSchema);
    await signingKeysReady();
    const user = await prisma.user.findUnique({
      where: { id: caller.id },
      select: { passwordHash: true, roles: true },
    });
    if (!user) throw AppError.notFound('no such user');
    if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
      throw AppError.badRequest('body.currentPassword: is not the current password', [
        { field: 'body.currentPassword', message: 'is not the current password' },
      ]);
    }
    const passwordHash = await hashPassword(body.newPassword);
    const refresh = await prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: caller.id }, data: { passwordHash, passwordChangedAt: new Date() } });
      await revokeAllOfUser(tx, caller.id);
      await announceRevocation(tx, caller.id, 'password-changed');
      return tokens.issueRefreshToken(tx, caller.id);
    });
    deps.relay?.wake();
    res.json(await tokens.tokenResponse(caller.id, user.roles, refresh));
  };

  const getUser: RequestHandler = async (req, res) => {
    requireUser(req);
    const { id } = parseParams(req, userIdParamsSchema);
    requireSelfOrAdmin(req, id);
    res.json(await profileOf(id));
  };

  const listUsers: RequestHandler = async (req, res) => {
    requireRole(req, 'admin');
    const query = parseQuery(req, listUsersQuerySchema);
    const position = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const after = position && { createdAt: position.at, id: position.id };
    const rows = await prisma.user.findMany({
      where: after
        ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
        : {},
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      select: profileSelect,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({
      items: page.map(toProfile),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null,
    });
  };

  const setRoles: RequestHandler = async (req, res) => {
    const admin = requireRole(req, 'admin');
    const { id } = parseParams(req, userIdParamsSchema);
    const { roles } = parseBody(req, setRolesRequestSchema);
    if (id === admin.id && !roles.includes('admin')) {
      throw new AppError(409, { code: 'last-admin-guard', detail: 'you cannot remove your own admin role' });
    }
    try {
      const user = await prisma.user.update({ where: { id }, data: { roles }, select: profileSelect });
      log(req, deps.logger).info({ userId: id, roles, by: admin.id }, 'roles changed');
      res.json(toProfile(user));
    } catch (err) {
      if (isRecordNotFound(err)) throw AppError.notFound('no such user');
      throw err;
    }
  };

  const jwks: RequestHandler = async (_req, res: Response) => {
    const { jwks: body } = await keys.get();
    // Verifiers may cache for five minutes: after a rotation the old key stays listed as
    // `previous` while its tokens live, and verifiers refetch when they meet the new kid
    // (docs/decisions/0401).
    res.set('cache-control', 'public, max-age=300').json(body);
  };

  mountOperations(app, identityApp, {
    register,
    login,
    refresh,
    logout,
    logoutAll,
    getMe,
    updateMe,
    changePassword,
    getUser,
    listUsers,
    setUserRoles: setRoles,
    jwks,
  });
}
