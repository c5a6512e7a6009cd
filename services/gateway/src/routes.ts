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
  gatewayCacheProblems,
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
  /** `pattern` without its method: the route's `http.route` and request-line template, made once */
  template: string;
  /** the path the service serves, when it differs from the public one (dead-letter admin only) */
  upstreamPath?: string;
  /**
   * The gateway may keep the answer (registry `gatewayCache`, decision 1000): keyed by the path
   * segment at this index (the operation's one parameter), which purge events name.
   */
  keptBySegment?: number;
  /** a success purges the kept answers keyed by the path segment at this index (registry `purgesGatewayCache`) */
  purgesBySegment?: number;
}

interface TableEntry {
  method: string;
  /** per segment: the literal it must equal, or undefined for a parameter (any non-empty segment) */
  segments: Array<string | undefined>;
  route: ResolvedRoute;
}

const isParameter = (segment: string) => /^\{\w+\}$/.test(segment);

function matches(entry: TableEntry, segments: string[]): boolean {
  for (let i = 0; i < segments.length; i += 1) {
    const literal = entry.segments[i];
    const segment = segments[i];
    if (literal === undefined ? segment === '' : segment !== literal) return false;
  }
  return true;
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
  const cacheProblems = gatewayCacheProblems(system);
  if (cacheProblems.length > 0) throw new Error(`registry: ${cacheProblems.join('; ')}`);
  const entries: TableEntry[] = systemOperations(system)
    .sort(bySpecificity)
    .map((op) => {
      const segments = op.path.split('/');
      const firstParameter = segments.findIndex(isParameter);
      return {
        method: op.method.toUpperCase(),
        segments: segments.map((segment) => (isParameter(segment) ? undefined : segment)),
        route: {
          appId: op.appId,
          access: op.access,
          limit: op.rateLimit,
          pattern: `${op.method.toUpperCase()} ${op.path}`,
          template: op.path,
          // Seed aliases are copies of an operation: they keep and purge as it does.
          ...(op.gatewayCache ? { keptBySegment: firstParameter } : {}),
          ...(op.purgesGatewayCache?.length ? { purgesBySegment: firstParameter } : {}),
        },
      };
    });
  // Compiled once: the candidates of a request are the entries of its method and segment count,
  // in specificity order, so a lookup compares a handful of strings (no regex, no allocation).
  const byShape = new Map<string, TableEntry[]>();
  for (const entry of entries) {
    const shape = `${entry.method} ${entry.segments.length}`;
    byShape.set(shape, [...(byShape.get(shape) ?? []), entry]);
  }
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
      template: `${DEAD_LETTERS_PATH}/{appId}/*`,
      upstreamPath: [DEAD_LETTERS_PATH, ...rest].join('/'),
    };
  };

  return {
    appIds: system
      .filter((app) => entries.some((e) => e.route.appId === app.appId) || deadLetterApps.has(app.appId))
      .map((a) => a.appId),
    resolve(method, path) {
      const verb = method === 'HEAD' ? 'GET' : method;
      const deadLetters = resolveDeadLetters(path);
      if (deadLetters) return deadLetters;
      const segments = path.split('/');
      return byShape.get(`${verb} ${segments.length}`)?.find((e) => matches(e, segments))?.route;
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
