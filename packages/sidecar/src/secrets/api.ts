/** The secrets API: `GET /v1.0/secrets/{store}/{key}` and `/bulk`. */
import type { ApiResult } from '../api/types';
import type { ResiliencyLookup } from '../resiliency/types';
import type { ComponentSet } from '../components';
import { errorMessage } from '../errors';
import { SecretNotFoundError } from './store';
import { daprError } from '../api/respond';

export interface SecretsApiDeps {
  components: ComponentSet;
  resiliency: ResiliencyLookup;
}

function secretStore(
  deps: SecretsApiDeps,
  name: string,
): ApiResult | NonNullable<ReturnType<ComponentSet['secretStores']['get']>> {
  if (deps.components.secretStores.size === 0)
    return daprError(500, 'ERR_SECRET_STORES_NOT_CONFIGURED', 'secret store is not configured');
  const entry = deps.components.secretStores.get(name);
  // daprd answers 401 here (its docs say 400).
  if (!entry) return daprError(401, 'ERR_SECRET_STORE_NOT_FOUND', `failed finding secret store with key ${name}`);
  return entry;
}

export async function getSecret(deps: SecretsApiDeps, storeName: string, key: string): Promise<ApiResult> {
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

export async function getBulkSecrets(deps: SecretsApiDeps, storeName: string): Promise<ApiResult> {
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
