/**
 * Signing in as a real client does: log in, and register only when the account does not exist
 * yet (registration is limited to a few per hour per address, so a second run reuses the
 * accounts of the first). Tokens are renewed by logging in again shortly before they expire.
 */
import type { GatewayHttp, GatewayResponse } from './http';
import type { RunStats, Step } from './stats';

export interface Session {
  email: string;
  userId: string;
  accessToken: string;
  /** epoch ms after which the token is renewed before use */
  renewAt: number;
}

export class SignInError extends Error {
  constructor(
    message: string,
    readonly rateLimited: boolean,
  ) {
    super(message);
  }
}

/** The `sub` of a JWT (the user's id); the token is the gateway's, verified there, not here. */
export function subjectOf(jwt: string): string {
  const payload = jwt.split('.')[1];
  if (!payload) throw new Error('the access token is not a JWT');
  const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
  if (typeof sub !== 'string') throw new Error('the access token has no subject');
  return sub;
}

export interface SignInContext {
  http: GatewayHttp;
  stats: RunStats;
  /** stop retrying a 429 past this time */
  retryUntil: () => number;
  signal: AbortSignal;
}

export async function timed(
  ctx: SignInContext,
  step: Step,
  send: (onRateLimited: () => void) => Promise<GatewayResponse>,
): Promise<GatewayResponse> {
  const started = performance.now();
  const res = await send(() => ctx.stats.limited(step));
  if (res.status !== 429) ctx.stats.step(step).add(performance.now() - started);
  return res;
}

export function problemDetail(res: GatewayResponse): string {
  const body = res.body as { detail?: unknown; title?: unknown } | string;
  if (typeof body === 'string') return body.slice(0, 200);
  return String(body?.detail ?? body?.title ?? '');
}

export async function signIn(
  ctx: SignInContext,
  account: { email: string; password: string; displayName: string },
): Promise<Session> {
  const options = (onRateLimited: () => void) => ({
    retryUntil: ctx.retryUntil(),
    signal: ctx.signal,
    onRateLimited,
  });
  const login = await timed(ctx, 'login', (limited) =>
    ctx.http.request('POST', '/api/v1/auth/login', {
      body: { email: account.email, password: account.password },
      ...options(limited),
    }),
  );
  if (login.status === 200) return sessionOf(account.email, login.body as { accessToken: string; expiresIn: number });
  if (login.status === 429) throw new SignInError(`login of ${account.email} stayed rate-limited`, true);
  if (login.status !== 401) throw new SignInError(`login answered ${login.status}: ${problemDetail(login)}`, false);

  const register = await timed(ctx, 'register', (limited) =>
    ctx.http.request('POST', '/api/v1/auth/register', { body: account, ...options(limited) }),
  );
  if (register.status === 201)
    return sessionOf(account.email, (register.body as { tokens: { accessToken: string; expiresIn: number } }).tokens);
  if (register.status === 429)
    throw new SignInError(
      `registration of ${account.email} stayed rate-limited (registrations are limited per address per hour; ` +
        'the accounts registered so far are reused by the next run)',
      true,
    );
  if (register.status === 409)
    throw new SignInError(`${account.email} exists with another password (login 401, register 409)`, false);
  throw new SignInError(`register answered ${register.status}: ${problemDetail(register)}`, false);
}

function sessionOf(email: string, tokens: { accessToken: string; expiresIn: number }): Session {
  return {
    email,
    userId: subjectOf(tokens.accessToken),
    accessToken: tokens.accessToken,
    // Renew a minute early (or at half-life for short tokens), so no request carries an expired token.
    renewAt: Date.now() + Math.max(tokens.expiresIn / 2, tokens.expiresIn - 60) * 1000,
  };
}
