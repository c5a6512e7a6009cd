/**
 * Who is calling. The gateway authenticates users (JWT) and forwards the result as headers;
 * a service trusts those headers only when the request came from the gateway through Dapr:
 * the callee's sidecar sets `dapr-caller-app-id` (from the mTLS identity on Kubernetes), and
 * when APP_API_TOKEN is configured the sidecar must also present it as `dapr-api-token`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { AppError } from './errors';

export const USER_ID_HEADER = 'x-quizmesh-user-id';
export const USER_ROLES_HEADER = 'x-quizmesh-user-roles';
export const CALLER_APP_HEADER = 'dapr-caller-app-id';

export const ROLES = ['player', 'author', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface CallerUser {
  id: string;
  roles: Role[];
}

declare module 'express-serve-static-core' {
  interface Request {
    /** set by `trustGatewayUser` when the gateway forwarded an authenticated user */
    user?: CallerUser;
  }
}

/** Constant-time comparison of two secrets (tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Reads the gateway's user headers into `req.user`. Headers from anyone but the gateway are
 * ignored (not an error: a public endpoint still works, a protected one then answers 401).
 */
export function trustGatewayUser(
  options: { appApiToken?: string | undefined; gatewayAppId?: string } = {},
): RequestHandler {
  const gatewayAppId = options.gatewayAppId ?? 'gateway';
  return (req, _res, next) => {
    delete req.user;
    const id = req.headers[USER_ID_HEADER];
    // The token is compared only when there is a user to trust (not on every anonymous read).
    if (
      typeof id === 'string' &&
      id !== '' &&
      req.headers[CALLER_APP_HEADER] === gatewayAppId &&
      (options.appApiToken === undefined || sameSecret(req.header('dapr-api-token') ?? '', options.appApiToken))
    ) {
      const roles = (req.header(USER_ROLES_HEADER) ?? '')
        .split(',')
        .map((r) => r.trim())
        .filter((r): r is Role => (ROLES as readonly string[]).includes(r));
      req.user = { id, roles };
    }
    next();
  };
}

/** The authenticated user, or 401. */
export function requireUser(req: Request): CallerUser {
  if (!req.user) throw AppError.unauthorized();
  return req.user;
}

/** The authenticated user holding one of `roles`, or 401/403. */
export function requireRole(req: Request, ...roles: Role[]): CallerUser {
  const user = requireUser(req);
  if (!user.roles.some((r) => roles.includes(r))) {
    throw AppError.forbidden(`requires role ${roles.join(' or ')}`);
  }
  return user;
}

/** Owner or admin, else 403. */
export function requireSelfOrAdmin(req: Request, ownerId: string): CallerUser {
  const user = requireUser(req);
  if (user.id !== ownerId && !user.roles.includes('admin')) throw AppError.forbidden('not your resource');
  return user;
}

/**
 * The app id of a trusted service caller (not a user): the request came through Dapr from one of
 * `appIds` (the callee's sidecar sets `dapr-caller-app-id`) and, when APP_API_TOKEN is configured,
 * carries it. Undefined otherwise. A service acting on its own behalf (the operator) is told apart
 * from a user this way; it never forges the gateway's user headers.
 */
export function trustedServiceCaller(
  req: Request,
  appIds: readonly string[],
  appApiToken: string | undefined,
): string | undefined {
  const caller = req.header(CALLER_APP_HEADER);
  if (caller === undefined || !appIds.includes(caller)) return undefined;
  const tokenOk = appApiToken === undefined || sameSecret(req.header('dapr-api-token') ?? '', appApiToken);
  return tokenOk ? caller : undefined;
}
