/**
 * Browser sessions for the web app (docs/decisions/0821). The JSON API hands out refresh tokens
 * in response bodies, which a page would have to keep somewhere script can read. Here the gateway
 * signs the browser in through identity's own endpoints and keeps the refresh token in an
 * httpOnly, SameSite=Strict cookie scoped to this path (Secure over TLS); the page gets only
 * the short-lived access token, which it keeps in memory.
 *
 * Refresh and logout are cookie-authenticated, so they need CSRF protection beyond SameSite:
 * a double-submit token (readable cookie `qm_csrf`, echoed in `x-csrf-token`) and, when the
 * browser sends one, an Origin equal to this gateway's. Login and register keep the JSON API's
 * rate limits (per address and account; per address).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { AppError, DaprCallError, HttpMethod, type ServiceRuntime } from '@quizmesh/platform';
import { clientIp } from '../forward';
import { enforce, type GatewayLimits } from '../rate-limit/limits';
import { checkFraming, checkRequestBody, emailOf, readBody } from '../request-limits';

export const SESSION_PATH = '/api/v1/session';
export const REFRESH_COOKIE = 'qm_refresh';
export const CSRF_COOKIE = 'qm_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** What the page gets: the access token only (the refresh token stays in the httpOnly cookie). */
export const browserSessionSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    /** seconds until the access token expires */
    expiresIn: z.number().int().positive(),
  })
  .meta({ id: 'BrowserSession', description: 'An access token for a browser; its refresh token is in a cookie.' });

export const SESSION_DESCRIPTION = `For browsers (the web app): identity's sign-in with the refresh token kept in an \`httpOnly\`, \`SameSite=Strict\` cookie \`${REFRESH_COOKIE}\` on \`${SESSION_PATH}\` (\`Secure\` over TLS), never in the body. Refresh and logout are authenticated by that cookie and need the CSRF token from the readable \`${CSRF_COOKIE}\` cookie in the \`${CSRF_HEADER}\` header (403 otherwise, also for another Origin). Other clients use /api/v1/auth.`;

interface TokenResponse {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    try {
      if (!cookies.has(name)) cookies.set(name, decodeURIComponent(part.slice(at + 1).trim()));
    } catch {
      /* a malformed value is as good as none */
    }
  }
  return cookies;
}

function sameOrigin(req: Request): boolean {
  const origin = req.header('origin');
  if (origin === undefined) return true; // same-origin GET/HEAD-less fetches may omit it; SameSite and the token still hold
  return origin === `${req.protocol}://${req.header('host') ?? ''}`;
}

function checkCsrf(req: Request, cookies: Map<string, string>): void {
  const expected = cookies.get(CSRF_COOKIE);
  const presented = req.header(CSRF_HEADER);
  const ok =
    sameOrigin(req) &&
    expected !== undefined &&
    presented !== undefined &&
    expected.length === presented.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(presented));
  if (!ok) {
    throw new AppError(403, {
      code: 'csrf',
      detail: `cookie sessions need the ${CSRF_HEADER} header matching the ${CSRF_COOKIE} cookie, from this origin`,
    });
  }
}

function setSessionCookies(req: Request, res: Response, tokens: TokenResponse): void {
  const secure = req.secure;
  const expires = new Date(tokens.refreshTokenExpiresAt);
  res.cookie(REFRESH_COOKIE, tokens.refreshToken, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: SESSION_PATH,
    expires,
  });
  res.cookie(CSRF_COOKIE, randomBytes(24).toString('base64url'), { secure, sameSite: 'strict', path: '/', expires });
}

function clearSessionCookies(req: Request, res: Response): void {
  res.clearCookie(REFRESH_COOKIE, { httpOnly: true, secure: req.secure, sameSite: 'strict', path: SESSION_PATH });
  res.clearCookie(CSRF_COOKIE, { secure: req.secure, sameSite: 'strict', path: '/' });
}

/** identity's answer, or its problem (status, detail, field errors) as this gateway's error. */
async function callIdentity<T>(runtime: ServiceRuntime, path: string, body: object): Promise<T> {
  try {
    return await runtime.dapr.invoke<T>('identity', path, HttpMethod.POST, body);
  } catch (err) {
    if (err instanceof DaprCallError && err.daprStatus !== undefined && err.daprStatus >= 400 && err.daprStatus < 500) {
      let problem: { detail?: string; errors?: Array<{ field: string; message: string }>; type?: string } = {};
      try {
        problem = JSON.parse(err.daprBody ?? '{}') as typeof problem;
      } catch {
        /* keep the status */
      }
      throw new AppError(err.daprStatus, {
        ...(problem.detail ? { detail: problem.detail } : {}),
        ...(problem.errors ? { errors: problem.errors } : {}),
        ...(problem.type ? { code: problem.type.split('/').pop() ?? 'error' } : {}),
      });
    }
    throw err;
  }
}

function pageTokens(tokens: TokenResponse) {
  return { tokenType: tokens.tokenType, accessToken: tokens.accessToken, expiresIn: tokens.expiresIn };
}

export interface BrowserSessionDeps {
  runtime: ServiceRuntime;
  limits: GatewayLimits;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

export function mountBrowserSession(app: Express, deps: BrowserSessionDeps): void {
  const { runtime, limits } = deps;

  /** The body as every proxied body is checked (framing, 415, 413, 408), then a JSON object (400). */
  async function jsonObjectBody(req: Request): Promise<{ raw: Buffer; body: object }> {
    checkFraming(req);
    checkRequestBody(req, deps.maxBodyBytes);
    const raw = await readBody(req, deps.maxBodyBytes, deps.bodyTimeoutMs);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new AppError(400, { code: 'malformed-json', detail: 'request body is not valid JSON' });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw AppError.badRequest('the body must be a JSON object', [{ field: 'body', message: 'must be an object' }]);
    }
    return { raw, body };
  }

  app.post(`${SESSION_PATH}/login`, async (req, res) => {
    if (!sameOrigin(req)) throw AppError.forbidden('sign in from this origin only');
    const { raw, body } = await jsonObjectBody(req);
    const key = `${clientIp(req)}|${emailOf(raw) ?? ''}`;
    await enforce(limits.login, key, 'login attempts per address and account');
    const tokens = await callIdentity<TokenResponse>(runtime, 'api/v1/auth/login', body);
    await limits.login.reset(key).catch(() => undefined);
    setSessionCookies(req, res, tokens);
    res.json(pageTokens(tokens));
  });

  app.post(`${SESSION_PATH}/register`, async (req, res) => {
    if (!sameOrigin(req)) throw AppError.forbidden('register from this origin only');
    const { body } = await jsonObjectBody(req);
    await enforce(limits.register, clientIp(req), 'registrations per client address');
    const result = await callIdentity<{ tokens: TokenResponse }>(runtime, 'api/v1/auth/register', body);
    setSessionCookies(req, res, result.tokens);
    res.status(201).json(pageTokens(result.tokens));
  });

  app.post(`${SESSION_PATH}/refresh`, async (req, res) => {
    const cookies = parseCookies(req.header('cookie'));
    checkCsrf(req, cookies);
    const refreshToken = cookies.get(REFRESH_COOKIE);
    if (!refreshToken) throw AppError.unauthorized('no session: sign in');
    try {
      const tokens = await callIdentity<TokenResponse>(runtime, 'api/v1/auth/refresh', { refreshToken });
      setSessionCookies(req, res, tokens);
      res.json(pageTokens(tokens));
    } catch (err) {
      // A refused rotation (expired, reused, revoked) ends the browser session too.
      if (err instanceof AppError && err.status === 401) clearSessionCookies(req, res);
      throw err;
    }
  });

  app.post(`${SESSION_PATH}/logout`, async (req, res) => {
    const cookies = parseCookies(req.header('cookie'));
    checkCsrf(req, cookies);
    const refreshToken = cookies.get(REFRESH_COOKIE);
    if (refreshToken) {
      // A session identity no longer knows is as good as ended; any other failure is reported.
      await callIdentity<unknown>(runtime, 'api/v1/auth/logout', { refreshToken }).catch((err: unknown) => {
        if (!(err instanceof AppError && (err.status === 400 || err.status === 401))) throw err;
      });
    }
    clearSessionCookies(req, res);
    res.status(204).end();
  });
}
