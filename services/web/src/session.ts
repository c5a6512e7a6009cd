/**
 * Who is signed in. The access token lives only in this module's memory; the refresh token is an
 * httpOnly, SameSite=Strict cookie the gateway sets on /api/v1/session (the page never sees it),
 * so a reload signs in again silently through `refresh()`. Cookie-authenticated calls carry the
 * CSRF token the gateway put in the readable `qm_csrf` cookie (double submit).
 * The gateway's browser-session endpoints: services/gateway/src/web/session.ts.
 */
export type Role = 'player' | 'author' | 'admin';

export interface SignedIn {
  userId: string;
  roles: Role[];
  accessToken: string;
  /** device time (ms) after which the token is refreshed before use */
  refreshAtMs: number;
}

export const SESSION_PATH = '/api/v1/session';
const CSRF_COOKIE = 'qm_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
  /** field → message, with the `body.` prefix the API puts on request fields removed */
  fieldErrors(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) result[e.field.replace(/^body\./, '')] ??= e.message;
    return result;
  }
}

export function readCookie(cookieHeader: string, name: string): string | undefined {
  for (const part of cookieHeader.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The claims the app needs, decoded (not verified: the gateway verifies every call). */
export function decodeAccessToken(token: string): { sub: string; roles: Role[]; exp: number } {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const claims = JSON.parse(json) as { sub: string; roles?: Role[]; exp: number };
  return { sub: claims.sub, roles: claims.roles ?? [], exp: claims.exp };
}

type Listener = (session: SignedIn | undefined) => void;

let current: SignedIn | undefined;
let refreshing: Promise<SignedIn | undefined> | undefined;
const listeners = new Set<Listener>();

function set(next: SignedIn | undefined) {
  current = next;
  for (const l of listeners) l(next);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function session(): SignedIn | undefined {
  return current;
}

function fromTokens(body: { accessToken: string; expiresIn: number }): SignedIn {
  const claims = decodeAccessToken(body.accessToken);
  // Refresh a little before the end, so a call never leaves with a token about to expire.
  const lifetimeMs = body.expiresIn * 1_000;
  return {
    userId: claims.sub,
    roles: claims.roles,
    accessToken: body.accessToken,
    refreshAtMs: Date.now() + Math.max(lifetimeMs - 30_000, lifetimeMs / 2),
  };
}

async function post(path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const csrf = readCookie(document.cookie, CSRF_COOKIE);
  if (csrf) headers[CSRF_HEADER] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${SESSION_PATH}/${path}`, {
    method: 'POST',
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function problemOf(response: Response): Promise<ApiProblem> {
  let body: ProblemBody = {};
  try {
    body = (await response.json()) as ProblemBody;
  } catch {
    /* not JSON */
  }
  return new ApiProblem(response.status, body);
}

export async function login(email: string, password: string): Promise<SignedIn> {
  const response = await post('login', { email, password });
  if (!response.ok) throw await problemOf(response);
  const signedIn = fromTokens((await response.json()) as { accessToken: string; expiresIn: number });
  set(signedIn);
  return signedIn;
}

export async function register(email: string, displayName: string, password: string): Promise<SignedIn> {
  const response = await post('register', { email, displayName, password });
  if (!response.ok) throw await problemOf(response);
  const signedIn = fromTokens((await response.json()) as { accessToken: string; expiresIn: number });
  set(signedIn);
  return signedIn;
}

/** Rotates the refresh cookie for a new access token; undefined (signed out) when there is no session. */
export function refresh(): Promise<SignedIn | undefined> {
  // One rotation at a time: two concurrent rotations of one token would revoke the family.
  refreshing ??= (async () => {
    try {
      const response = await post('refresh');
      if (!response.ok) {
        set(undefined);
        return undefined;
      }
      const signedIn = fromTokens((await response.json()) as { accessToken: string; expiresIn: number });
      set(signedIn);
      return signedIn;
    } catch {
      return current;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

export async function logout(): Promise<void> {
  try {
    await post('logout');
  } finally {
    set(undefined);
  }
}

/** A token good for the next call, refreshed first when it is about to expire. */
export async function accessToken(): Promise<string | undefined> {
  if (current && Date.now() < current.refreshAtMs) return current.accessToken;
  if (!current && !readCookie(document.cookie, CSRF_COOKIE)) return undefined;
  return (await refresh())?.accessToken;
}

export function hasRole(signedIn: SignedIn | undefined, ...roles: Role[]): boolean {
  return signedIn !== undefined && signedIn.roles.some((r) => roles.includes(r));
}
