/**
 * The middleware every proxied request goes through, in this order (cheap checks first, so
 * that abuse costs the gateway little and the services nothing), after the per-IP limit:
 *   path sanity (400) → route table (404) → framing (400) → body size/type (413/415) → token (401)
 *   and role (403) → per-user limit (429) → body read whole (413/408) → login/register limits (429)
 *   → the gateway's kept answer, if any (decision 1000) → forward through the sidecar.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, setHttpRoute, type CallerUser } from '@quizmesh/platform';
import { recordGatewayCacheLookup } from '@quizmesh/platform/telemetry';
import { bearerToken, missingToken, type TokenVerifier } from './auth/tokens';
import { notModified, type KeptAnswer, type ResponseCache } from './cache/response-cache';
import { hasBody, type SidecarProxy } from './proxy';
import { enforce, type GatewayLimits } from './rate-limit/limits';
import { checkFraming, checkRequestBody, emailOf, readBody } from './request-limits';
import { isAmbiguousPath, resolveRoute, type Access } from './routes';

export interface ForwardDeps {
  proxy: SidecarProxy;
  verifier: TokenVerifier;
  limits: GatewayLimits;
  /** answers of `gatewayCache` operations, kept in this process (decision 1000) */
  cache: ResponseCache;
  maxBodyBytes: number;
  /** time a client has to send its body (beyond: 408) */
  bodyTimeoutMs: number;
  logger: Logger;
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

async function authenticate(req: Request, access: Access, verifier: TokenVerifier): Promise<CallerUser | undefined> {
  const token = bearerToken(req.header('authorization'));
  const user = token === undefined ? undefined : await verifier.verify(token);
  if (access === 'public') return user;
  if (!user) throw missingToken();
  // The service checks the role again: defence in depth.
  if (access === 'admin' && !user.roles.includes('admin')) throw AppError.forbidden('requires role admin');
  return user;
}

/**
 * Every request to the API (proxied or the gateway's own) counts against its client address,
 * whatever its spelling: routing is case-sensitive (decision 0721), so `/API/…` is matched here
 * without regard to case rather than by Express's mount path, and counts too.
 */
const API_PATH = /^\/(api|\.well-known)(\/|$)/i;
export function ipLimitMiddleware(limits: GatewayLimits): RequestHandler {
  return async (req, _res, next) => {
    if (API_PATH.test(req.path)) await enforce(limits.ip, clientIp(req), 'requests per client address');
    next();
  };
}

export function forwardMiddleware(deps: ForwardDeps): RequestHandler {
  const { limits, maxBodyBytes } = deps;
  return async (req, res, next) => {
    // Before the table: such a path matches no operation, but must not be a plain 404 either.
    if (isAmbiguousPath(req.path)) {
      throw AppError.badRequest('the path contains dot segments, empty segments or encoded separators');
    }
    const route = resolveRoute(req.method, req.path);
    if (!route) {
      next();
      return;
    }
    // The table's template (`/api/v1/quizzes/{id}`), never the raw path: bounded cardinality.
    setHttpRoute(res, route.template);
    const ip = clientIp(req);
    checkFraming(req);
    checkRequestBody(req, maxBodyBytes);
    const user = await authenticate(req, route.access, deps.verifier);
    if (user) await enforce(limits.user, user.id, 'requests per user');

    // Bodies are read whole (size and time limits) before anything is forwarded: request-limits.ts.
    const body = hasBody(req) ? await readBody(req, maxBodyBytes, deps.bodyTimeoutMs) : undefined;
    let loginKey: string | undefined;
    if (route.limit === 'login') {
      loginKey = `${ip}|${emailOf(body ?? Buffer.alloc(0)) ?? ''}`;
      await enforce(limits.login, loginKey, 'login attempts per address and account');
    } else if (route.limit === 'register') {
      await enforce(limits.register, ip, 'registrations per client address');
    }

    // A GET of a kept operation without a query: the same answer for every caller (decision 1000).
    // Not a percent-encoded key: events name the decoded id, so such a spelling would escape purges.
    const segment =
      route.keptBySegment !== undefined && req.method === 'GET' && !req.originalUrl.includes('?')
        ? req.path.split('/')[route.keptBySegment]
        : undefined;
    const keptKey = segment !== undefined && !segment.includes('%') ? segment : undefined;
    if (keptKey !== undefined) {
      const kept = deps.cache.get(req.path);
      recordGatewayCacheLookup(kept ? 'hit' : 'miss');
      if (kept) {
        sendKept(req, res, kept);
        return;
      }
      res.setHeader('cache-status', 'gateway; fwd=uri-miss');
    }
    const fill = keptKey !== undefined ? deps.cache.startFill(keptKey) : undefined;
    const path = req.path;
    const status = await deps.proxy.forward(req, res, {
      appId: route.appId,
      user,
      ...(body ? { body } : {}),
      ...(route.upstreamPath !== undefined ? { upstreamPath: route.upstreamPath } : {}),
      ...(fill
        ? {
            keep: {
              ifNoneMatch: req.headers['if-none-match'],
              accepts: (answerStatus, headers) => deps.cache.accepts(answerStatus, headers),
              store: (headers, answer) => deps.cache.store(path, fill, headers, answer),
            },
          }
        : {}),
    });
    if (route.purgesBySegment !== undefined && status >= 200 && status < 300) {
      // A change made through this replica: read-your-writes here at once; the others hear the event.
      const changed = req.path.split('/')[route.purgesBySegment];
      if (changed !== undefined) deps.cache.purge(changed);
    }
    if (loginKey !== undefined && status >= 200 && status < 300) {
      // Only failed attempts should count towards the brute-force limit.
      await limits.login
        .reset(loginKey)
        .catch((err: unknown) => deps.logger.warn({ err }, 'could not reset the login limit'));
    }
  };
}

/**
 * A kept answer: its representation headers and bytes, or 304 when If-None-Match names its ETag
 * (the service's rule, decision 0900). `Age` and `Cache-Status` (RFC 9111, RFC 9211) say it came
 * from the gateway.
 */
function sendKept(req: Request, res: Response, kept: KeptAnswer & { ageS: number }): void {
  for (const [name, value] of kept.headers) res.setHeader(name, value);
  res.setHeader('age', String(kept.ageS));
  res.setHeader('cache-status', 'gateway; hit');
  if (notModified(req.headers['if-none-match'], kept)) {
    res.removeHeader('content-type');
    res.status(304).end();
    return;
  }
  res.status(200).end(kept.body);
}
