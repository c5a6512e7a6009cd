/** Secrets and output bindings APIs. */
import type { ApiResult, ResiliencyLookup } from '../contracts';
import type { ComponentSet } from '../components';
import { errorMessage } from '../errors';
import { SecretNotFoundError } from '../secrets/store';
import { daprError } from './respond';

export interface MiscApiDeps {
  components: ComponentSet;
  resiliency: ResiliencyLookup;
}

function secretStore(
  deps: MiscApiDeps,
  name: string,
): ApiResult | NonNullable<ReturnType<ComponentSet['secretStores']['get']>> {
  if (deps.components.secretStores.size === 0)
    return daprError(500, 'ERR_SECRET_STORES_NOT_CONFIGURED', 'secret store is not configured');
  const entry = deps.components.secretStores.get(name);
  // daprd answers 401 here (its docs say 400).
  if (!entry) return daprError(401, 'ERR_SECRET_STORE_NOT_FOUND', `failed finding secret store with key ${name}`);
  return entry;
}

export async function getSecret(deps: MiscApiDeps, storeName: string, key: string): Promise<ApiResult> {
  const entry = secretStore(deps, storeName);
  if ('status' in entry) return entry;
  try {
    const secret = await deps.resiliency.componentOutbound(storeName, entry.spec.type).run(() => entry.store.get(key));
    return { status: 200, body: secret };
  } catch (err) {
    const reason = err instanceof SecretNotFoundError ? err.message : errorMessage(err);
    return daprError(
      500,
      'ERR_SECRET_GET',
      `failed getting secret with key ${key} from secret store ${storeName}: ${reason}`,
    );
  }
}

export async function getBulkSecrets(deps: MiscApiDeps, storeName: string): Promise<ApiResult> {
  const entry = secretStore(deps, storeName);
  if ('status' in entry) return entry;
  try {
    const all = await deps.resiliency.componentOutbound(storeName, entry.spec.type).run(() => entry.store.bulk());
    return { status: 200, body: all };
  } catch (err) {
    return daprError(
      500,
      'ERR_SECRET_GET',
      `failed getting secrets from secret store ${storeName}: ${errorMessage(err)}`,
    );
  }
}

export async function invokeOutputBinding(deps: MiscApiDeps, name: string, body: Buffer): Promise<ApiResult> {
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
