/**
 * The gateway's route table, derived from the system registry (@quizmesh/contracts/registry):
 * every operation of every app (seed aliases included) and the dead-letter admin API of the apps
 * that serve one. Deny by default: a method and path no operation declares is a 404 here and
 * never reaches a service. Services serve the paths they are published under, so nothing is
 * rewritten except the dead-letter admin's app segment.
 */
import type { Access, RateLimitClass } from '@quizmesh/contracts/operations';
import {
  SYSTEM,
  bySpecificity,
  deadLetterAdminApps,
  systemOperations,
  type AppRegistration,
} from '@quizmesh/contracts/system';
import { DEAD_LETTERS_PATH } from '@quizmesh/platform/deadletters';

export type { Access };

export interface ResolvedRoute {
  appId: string;
  /** public: no token needed (one that is sent must be valid); user: a valid token; admin: and the admin role */
  access: Access;
  limit: RateLimitClass | undefined;
  /** the table entry that matched, for logs */
  pattern: string;
  /** the path the service serves, when it differs from the public one (dead-letter admin only) */
  upstreamPath?: string;
}

interface TableEntry {
  method: string;
  segments: string[];
  appId: string;
  access: Access;
  limit: RateLimitClass | undefined;
  pattern: string;
}

const isParameter = (segment: string) => /^\{\w+\}$/.test(segment);

function matches(entry: TableEntry, method: string, segments: string[]): boolean {
  return (
    entry.method === method &&
    entry.segments.length === segments.length &&
    entry.segments.every((s, i) => (isParameter(s) ? segments[i] !== '' : s === segments[i]))
  );
}

export interface RouteTable {
  /** the route for `method path`, or undefined (404). HEAD follows GET. */
  resolve(method: string, path: string): ResolvedRoute | undefined;
  /** apps the table sends requests to */
  appIds: readonly string[];
}

/**
 * Builds the table of a registry. Matching is exact in case and trailing slash, as the services'
 * routers are (case-sensitive, strict: packages/platform http.ts; docs/decisions/0721): another
 * spelling of a route is another path, which no operation declares.
 */
export function createRouteTable(system: readonly AppRegistration[]): RouteTable {
  const entries: TableEntry[] = systemOperations(system)
    .sort(bySpecificity)
    .map((op) => ({
      method: op.method.toUpperCase(),
      segments: op.path.split('/'),
      appId: op.appId,
      access: op.access,
      limit: op.rateLimit,
      pattern: `${op.method.toUpperCase()} ${op.path}`,
    }));
  const deadLetterApps = new Set(deadLetterAdminApps(system).map((a) => a.appId));

  // Dead-letter admin: every such app serves the platform's admin API at `/api/v1/admin/dead-letters`;
  // publicly it is `/api/v1/admin/dead-letters/{appId}/…`, and the gateway drops the app segment.
  const resolveDeadLetters = (path: string): ResolvedRoute | undefined => {
    if (!path.startsWith(`${DEAD_LETTERS_PATH}/`)) return undefined;
    const [appId = '', ...rest] = path.slice(DEAD_LETTERS_PATH.length + 1).split('/');
    if (!deadLetterApps.has(appId)) return undefined;
    return {
      appId,
      access: 'admin',
      limit: undefined,
      pattern: `${DEAD_LETTERS_PATH}/{appId}/*`,
      upstreamPath: [DEAD_LETTERS_PATH, ...rest].join('/'),
    };
  };

  return {
    appIds: system
      .filter((app) => entries.some((e) => e.appId === app.appId) || deadLetterApps.has(app.appId))
      .map((a) => a.appId),
    resolve(method, path) {
      const verb = method === 'HEAD' ? 'GET' : method;
      const deadLetters = resolveDeadLetters(path);
      if (deadLetters) return deadLetters;
      const segments = path.split('/');
      const entry = entries.find((e) => matches(e, verb, segments));
      return entry && { appId: entry.appId, access: entry.access, limit: entry.limit, pattern: entry.pattern };
    },
  };
}

export const ROUTE_TABLE = createRouteTable(SYSTEM);
export const resolveRoute = (method: string, path: string) => ROUTE_TABLE.resolve(method, path);

/**
 * Paths that could mean something else to the service than to this table: dot segments,
 * encoded slashes, dots or backslashes, empty segments. Rejected (400) rather than normalised,
 * so that the route and access rule the gateway applies are the ones the service sees.
 */
export function isAmbiguousPath(path: string): boolean {
  return /(^|\/)\.{1,2}(\/|$)|%2f|%2e|%5c|\\|\/\//i.test(path);
}
