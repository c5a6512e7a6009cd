/**
 * The gateway's route table: which app serves a public path, who may call it, and which
 * extra rate limit applies. Services serve the same paths they are published under (the
 * gateway forwards `/api/v1/quizzes/1` to quiz's `/api/v1/quizzes/1`), so there is no rewriting.
 */
import type { Role } from '@quizmesh/platform';

export type Access =
  /** no token needed; a token that is sent must still be valid, and then identifies the caller */
  | { kind: 'public' }
  /** a valid token */
  | { kind: 'user' }
  /** a valid token holding one of these roles (the service checks again: defence in depth) */
  | { kind: 'role'; roles: Role[] };

/** Stricter limits on endpoints that attract credential stuffing and sign-up abuse. */
export type SpecialLimit = 'login' | 'register';

/** A prefix: every path at or below it goes to `appId`. */
export interface PrefixRoute {
  prefix: string;
  appId: string;
  access: Access;
}

/** One method on one path (`:name` matches one segment): seed paths and exceptions inside a prefix. */
export interface ExactRoute {
  method: string;
  path: string;
  appId: string;
  access: Access;
  limit?: SpecialLimit;
}

export interface ResolvedRoute {
  appId: string;
  access: Access;
  limit: SpecialLimit | undefined;
  /** the table entry that matched, for logs and the OpenAPI coverage test */
  pattern: string;
  /** the path the service serves, when it differs from the public one (dead-letter admin only) */
  upstreamPath?: string;
}

const PUBLIC: Access = { kind: 'public' };
const USER: Access = { kind: 'user' };

export const PREFIX_ROUTES: readonly PrefixRoute[] = [
  { prefix: '/api/v1/auth', appId: 'identity', access: USER },
  { prefix: '/api/v1/users', appId: 'identity', access: USER },
  { prefix: '/api/v1/admin/users', appId: 'identity', access: { kind: 'role', roles: ['admin'] } },
  { prefix: '/api/v1/quizzes', appId: 'quiz', access: USER },
  { prefix: '/api/v1/attempts', appId: 'quiz', access: USER },
  { prefix: '/api/v1/leaderboards', appId: 'evaluation', access: USER },
  { prefix: '/api/v1/results', appId: 'evaluation', access: USER },
  { prefix: '/api/v1/notifications', appId: 'notification', access: USER },
];

/** Checked before the prefixes: public endpoints inside a protected prefix, and the seed-compatible paths. */
export const EXACT_ROUTES: readonly ExactRoute[] = [
  { method: 'POST', path: '/api/v1/auth/register', appId: 'identity', access: PUBLIC, limit: 'register' },
  { method: 'POST', path: '/api/v1/auth/login', appId: 'identity', access: PUBLIC, limit: 'login' },
  { method: 'POST', path: '/api/v1/auth/refresh', appId: 'identity', access: PUBLIC },
  // Logout presents the refresh token it ends; an expired access token must not prevent it.
  { method: 'POST', path: '/api/v1/auth/logout', appId: 'identity', access: PUBLIC },
  { method: 'GET', path: '/.well-known/jwks.json', appId: 'identity', access: PUBLIC },
  { method: 'GET', path: '/api/v1/quizzes', appId: 'quiz', access: PUBLIC },
  { method: 'GET', path: '/api/v1/quizzes/:id', appId: 'quiz', access: PUBLIC },
  // Leaderboard pages are as public as the top 10 inside a quiz; a player's rank ("around me",
  // …/players/:userId) stays under the prefix and needs a token.
  { method: 'GET', path: '/api/v1/leaderboards/global', appId: 'evaluation', access: PUBLIC },
  { method: 'GET', path: '/api/v1/leaderboards/quiz/:quizId', appId: 'evaluation', access: PUBLIC },
  { method: 'GET', path: '/api/v1/leaderboards/weekly/:isoWeek', appId: 'evaluation', access: PUBLIC },
  // Seed-compatible paths (the original monolith's API), kept for existing clients.
  { method: 'POST', path: '/api/users/register', appId: 'identity', access: PUBLIC, limit: 'register' },
  { method: 'POST', path: '/api/users/login', appId: 'identity', access: PUBLIC, limit: 'login' },
  { method: 'GET', path: '/api/users/profile', appId: 'identity', access: USER },
  { method: 'GET', path: '/api/quizzes', appId: 'quiz', access: PUBLIC },
  { method: 'GET', path: '/api/quizzes/:id', appId: 'quiz', access: PUBLIC },
  { method: 'POST', path: '/api/quizzes', appId: 'quiz', access: USER },
  { method: 'POST', path: '/api/results/submit', appId: 'evaluation', access: USER },
  { method: 'GET', path: '/api/leaderboard', appId: 'evaluation', access: PUBLIC },
  { method: 'GET', path: '/api/results/user/:id', appId: 'evaluation', access: USER },
];

/**
 * Dead-letter admin: every consuming app serves the platform's admin API at
 * `/api/v1/admin/dead-letters`; publicly it is `/api/v1/admin/dead-letters/{appId}/…`, and the
 * one rewrite the gateway does is dropping that app segment (packages/platform/src/deadletters).
 */
export const DEAD_LETTERS_PATH = '/api/v1/admin/dead-letters';
export const DEAD_LETTER_APPS: readonly string[] = ['identity', 'quiz', 'evaluation', 'notification'];
const ADMIN: Access = { kind: 'role', roles: ['admin'] };

function resolveDeadLetterRoute(path: string): ResolvedRoute | undefined {
  if (!path.startsWith(`${DEAD_LETTERS_PATH}/`)) return undefined;
  const [appId = '', ...rest] = path.slice(DEAD_LETTERS_PATH.length + 1).split('/');
  if (!DEAD_LETTER_APPS.includes(appId)) return undefined;
  return {
    appId,
    access: ADMIN,
    limit: undefined,
    pattern: `${DEAD_LETTERS_PATH}/{appId}/*`,
    upstreamPath: [DEAD_LETTERS_PATH, ...rest].join('/'),
  };
}

// Longest prefix wins (/api/v1/admin/users before a hypothetical /api/v1/admin).
const PREFIXES_LONGEST_FIRST = [...PREFIX_ROUTES].sort((a, b) => b.prefix.length - a.prefix.length);

function matchesExact(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.split('/');
  return (
    want.length === got.length &&
    want.every((segment, i) => (segment.startsWith(':') ? got[i] !== '' : segment === got[i]))
  );
}

function underPrefix(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Paths that could mean something else to the service than to this table: dot segments,
 * encoded slashes, dots or backslashes, empty segments. Rejected (400) rather than normalised,
 * so that the route and access rule the gateway applies are the ones the service sees.
 */
export function isAmbiguousPath(path: string): boolean {
  return /(^|\/)\.{1,2}(\/|$)|%2f|%2e|%5c|\\|\/\//i.test(path);
}

/**
 * The route for `method path`, or undefined (404). HEAD follows GET. Matching is exact in case
 * and trailing slash, as the services' routers are (case-sensitive, strict: packages/platform
 * http.ts; docs/decisions/0721): another spelling of a route is another path, which the services
 * do not serve, so it can never reach a handler without the rules of the route it imitates.
 */
export function resolveRoute(method: string, path: string): ResolvedRoute | undefined {
  const verb = method === 'HEAD' ? 'GET' : method;
  const deadLetters = resolveDeadLetterRoute(path);
  if (deadLetters) return deadLetters;
  const exact = EXACT_ROUTES.find((r) => r.method === verb && matchesExact(r.path, path));
  if (exact)
    return { appId: exact.appId, access: exact.access, limit: exact.limit, pattern: `${exact.method} ${exact.path}` };
  const prefix = PREFIXES_LONGEST_FIRST.find((r) => underPrefix(r.prefix, path));
  if (prefix) return { appId: prefix.appId, access: prefix.access, limit: undefined, pattern: `${prefix.prefix}/*` };
  return undefined;
}
