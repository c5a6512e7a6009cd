/**
 * The shape every service's HTTP contract uses to list its operations, so the gateway builds
 * one OpenAPI document from them (services/gateway/src/openapi).
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
  /** problem statuses beyond 400 (validation) */
  errors: number[];
  description?: string;
  /** the seed design's paths */
  deprecated?: boolean;
}
