/**
 * GET /api/v1/stream: the live stream (Server-Sent Events) of leaderboard updates and the
 * caller's own notifications (docs/decisions/0650). Without a token it is a visitor's stream:
 * leaderboard updates only (the boards are public), under the per-address caps.
 *
 * Browsers' EventSource cannot send headers, so besides `Authorization: Bearer` the access
 * token may come as `?access_token=` (RFC 6750 §2.3). Query strings end up in logs and
 * histories, so the server takes that parameter out of the URL before anything sees it
 * (`separateQueryToken`, called by the gateway's HTTP server ahead of Express and its
 * request logging) and only this route reads it back.
 */
import type { IncomingMessage } from 'node:http';
import type { Express, Request } from 'express';
import { AppError } from '@quizmesh/platform';
import { bearerToken, type TokenVerifier, type VerifiedToken } from '../auth/tokens';
import { clientIp } from '../forward';
import { enforce, type GatewayLimits } from '../rate-limit/limits';
import type { StreamHub } from './hub';

export const STREAM_PATH = '/api/v1/stream';
export const ACCESS_TOKEN_PARAM = 'access_token';

const queryTokens = new WeakMap<IncomingMessage, string[]>();

function isTokenParam(part: string): boolean {
  const name = part.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')) === ACCESS_TOKEN_PARAM;
  } catch {
    return false;
  }
}

function paramValue(part: string): string {
  const raw = part.slice(part.indexOf('=') + 1);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Removes every `access_token` query parameter from `req.url` (on any path: a token must not
 * be logged wherever it was sent) and keeps the values for `queryTokensOf`. The other
 * parameters stay byte for byte.
 */
export function separateQueryToken(req: IncomingMessage): void {
  const url = req.url;
  const question = url?.indexOf('?') ?? -1;
  if (url === undefined || question < 0) return;
  const parts = url.slice(question + 1).split('&');
  const tokens = parts.filter(isTokenParam);
  if (tokens.length === 0) return;
  queryTokens.set(req, tokens.map(paramValue));
  const rest = parts.filter((p) => !isTokenParam(p));
  req.url = url.slice(0, question) + (rest.length > 0 ? `?${rest.join('&')}` : '');
}

/** The `access_token` query values `separateQueryToken` took out of this request's URL. */
export function queryTokensOf(req: IncomingMessage): readonly string[] {
  return queryTokens.get(req) ?? [];
}

function invalidRequest(detail: string): AppError {
  return new AppError(400, {
    code: 'invalid-request',
    detail,
    headers: { 'www-authenticate': 'Bearer realm="quizmesh", error="invalid_request"' },
  });
}

/**
 * The stream's token: the Authorization header or one `access_token` parameter, never both (RFC
 * 6750 §2); undefined when neither was sent (a visitor). A token that was sent must be valid: an
 * expired one is a 401, never a silent visitor's stream.
 */
export async function authenticateStream(req: Request, verifier: TokenVerifier): Promise<VerifiedToken | undefined> {
  const fromHeader = bearerToken(req.header('authorization'));
  const fromQuery = queryTokensOf(req);
  if (fromQuery.length > 1) throw invalidRequest('send the access_token parameter once');
  if (fromHeader !== undefined && fromQuery.length > 0)
    throw invalidRequest('send the access token either in the Authorization header or as access_token, not both');
  const token = fromHeader ?? fromQuery[0];
  if (token === undefined && req.header('authorization') === undefined) return undefined;
  if (token === undefined || token === '') {
    throw new AppError(401, {
      code: 'authentication-required',
      detail: `send the access token as Authorization: Bearer <token> or ?${ACCESS_TOKEN_PARAM}=<token>, or neither for leaderboard updates only`,
      headers: { 'www-authenticate': 'Bearer realm="quizmesh"' },
    });
  }
  return verifier.verifyToken(token);
}

export interface StreamRouteDeps {
  hub: StreamHub;
  verifier: TokenVerifier;
  limits: GatewayLimits;
  retryMs: number;
}

/** Mounts GET /api/v1/stream (the per-address limit already applies to every /api request). */
export function mountStream(app: Express, deps: StreamRouteDeps): void {
  const retryAfterSeconds = Math.max(1, Math.ceil(deps.retryMs / 1000));
  // Express answers HEAD with the GET handler, which would open a stream that sends nothing and
  // never ends: HEAD gets the stream's headers (after the same token check) and no body.
  app.head(STREAM_PATH, async (req, res) => {
    await authenticateStream(req, deps.verifier);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
    });
    res.end();
  });
  app.get(STREAM_PATH, async (req, res) => {
    const verified = await authenticateStream(req, deps.verifier);
    if (verified) await enforce(deps.limits.user, verified.user.id, 'requests per user');
    const address = clientIp(req);
    const admission = deps.hub.admit(verified?.user.id, address);
    if (!admission.admitted) {
      throw admission.reason === 'user-limit'
        ? new AppError(429, {
            code: 'too-many-streams',
            detail: 'this account has as many live streams open as allowed; close one (another tab or device) first',
            headers: { 'retry-after': String(retryAfterSeconds) },
            extensions: { retryAfterSeconds },
          })
        : admission.reason === 'address-limit'
          ? new AppError(429, {
              code: 'too-many-streams',
              detail: 'this client address has as many live streams open as allowed; close one first',
              headers: { 'retry-after': String(retryAfterSeconds) },
              extensions: { retryAfterSeconds },
            })
          : new AppError(503, {
              code: 'stream-capacity',
              detail: 'this gateway has as many live streams open as it accepts; retry shortly',
              headers: { 'retry-after': String(retryAfterSeconds) },
              extensions: { retryAfterSeconds },
            });
    }
    // A stream is idle between events by design: no socket timeout (heartbeats detect dead peers).
    req.socket.setTimeout(0);
    const viewer = verified ? { id: verified.user.id, expiresAtMs: verified.expiresAtMs } : undefined;
    deps.hub.open(res, viewer, req.header('last-event-id'), address);
  });
}
