/** The output bindings API: `POST /v1.0/bindings/{name}`. */
import type { ApiResult } from '../api/types';
import type { ResiliencyLookup } from '../resiliency/types';
import type { ComponentSet } from '../components';
import { errorMessage } from '../errors';
import { daprError } from '../api/respond';

export interface BindingsApiDeps {
  components: ComponentSet;
  resiliency: ResiliencyLookup;
}

export async function invokeOutputBinding(deps: BindingsApiDeps, name: string, body: Buffer): Promise<ApiResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return daprError(400, 'ERR_MALFORMED_REQUEST', `failed deserializing HTTP body: ${errorMessage(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return daprError(400, 'ERR_MALFORMED_REQUEST', 'the body must be {"operation", "data", "metadata"}');
  }
  const request = parsed as { operation?: unknown; data?: unknown; metadata?: unknown };
  const metadata: Record<string, string> = {};
  if (typeof request.metadata === 'object' && request.metadata !== null) {
    for (const [k, v] of Object.entries(request.metadata)) {
      if (typeof v !== 'string') return daprError(400, 'ERR_MALFORMED_REQUEST', `metadata.${k} must be a string`);
      metadata[k] = v;
    }
  }
  const entry = deps.components.outputBindings.get(name);
  if (!entry)
    return daprError(
      500,
      'ERR_INVOKE_OUTPUT_BINDING',
      `error invoking output binding ${name}: couldn't find output binding ${name}`,
    );
  const operation = typeof request.operation === 'string' ? request.operation : '';
  if (!entry.binding.operations.includes(operation)) {
    return daprError(
      500,
      'ERR_INVOKE_OUTPUT_BINDING',
      `error invoking output binding ${name}: binding ${name} does not support operation ${operation}. supported operations:${entry.binding.operations.join(' ')}`,
    );
  }
  try {
    const out = await deps.resiliency
      .componentOutbound(name, entry.spec.type)
      .run(() => entry.binding.invoke({ operation, data: request.data, metadata }));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.metadata ?? {})) headers[`metadata.${k}`] = v;
    if (out.data && out.data.length > 0) return { status: 200, headers, body: out.data };
    return { status: 204, headers };
  } catch (err) {
    return daprError(500, 'ERR_INVOKE_OUTPUT_BINDING', `error invoking output binding ${name}: ${errorMessage(err)}`);
  }
}
