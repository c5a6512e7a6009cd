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
