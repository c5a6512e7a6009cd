/**
 * The shape every service's HTTP contract uses to list its operations. The system registry
 * (registry.ts) collects them per app; the gateway routes and documents them, and each
 * service mounts a handler per operation id.
 */
import type { z } from 'zod';

export type Access = 'public' | 'user' | 'admin';
export type OperationMethod = 'get' | 'post' | 'patch' | 'put' | 'delete';

export interface ApiOperation<M extends OperationMethod = OperationMethod> {
  operationId: string;
  method: M;
  /** OpenAPI path template */
  path: string;
  summary: string;
  access: Access;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** success status and body schema (undefined body: no content) */
  response: { status: number; schema?: z.ZodType };
  /**
   * The success answer carries a strong `ETag` (and `Cache-Control: no-cache`); a request whose
   * `If-None-Match` names it is answered 304 Not Modified without a body (RFC 9110 §13.1.2).
   */
  conditionalGet?: true;
  /**
   * The gateway may keep the success answer and serve it to every caller (decision 1000): the
   * answer is the same for everyone and holds no private field. Only public GETs with one path
   * parameter; kept per value of that parameter, and only answers the service marks
   * (`SHARED_CACHE_HEADER` of @quizmesh/platform). Dropped when an event of `purgedBy` names the
   * value in its `field` (the gateway consumes each such topic on every replica), or when an
   * operation listing this one in `purgesGatewayCache` succeeds through the gateway for it.
   */
  gatewayCache?: { purgedBy: ReadonlyArray<{ topic: string; field: string }> };
  /** operation ids whose gateway-kept answers for the same value of the path's first parameter this one changes */
  purgesGatewayCache?: readonly string[];
  /** problem statuses beyond 400 (validation) */
  errors: number[];
  description?: string;
  /** the seed design's paths */
  deprecated?: boolean;
  /** a stricter per-address rate limit the gateway applies (credential stuffing, sign-up abuse) */
  rateLimit?: RateLimitClass;
}

/** The gateway's stricter limits (services/gateway/src/rate-limit/limits.ts). */
export type RateLimitClass = 'login' | 'register';
