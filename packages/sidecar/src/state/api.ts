/** The Dapr state API (`/v1.0/state/...`), with daprd's status codes and error codes. */
import type { ApiResult } from '../api/types';
import type { ResiliencyLookup } from '../resiliency/types';
import type { ComponentSet, StateStoreEntry } from '../components';
import { DaprApiError, errorMessage } from '../errors';
import { PermanentOutcome } from '../resiliency/policy';
import { EtagInvalidError, EtagMismatchError, parseTtl, type TransactionOperation } from './store';
import { daprError } from '../api/respond';

export interface StateApiDeps {
  components: ComponentSet;
  resiliency: ResiliencyLookup;
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(message: string): DaprApiError {
  return new DaprApiError(400, 'ERR_MALFORMED_REQUEST', message);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw malformed(`failed deserializing HTTP body: ${errorMessage(err)}`);
  }
}

function storeFor(deps: StateApiDeps, name: string): StateStoreEntry {
  if (deps.components.stateStores.size === 0)
    throw new DaprApiError(500, 'ERR_STATE_STORE_NOT_CONFIGURED', 'state store is not configured');
  const entry = deps.components.stateStores.get(name);
  if (!entry) throw new DaprApiError(400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${name} is not found`);
  return entry;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') throw malformed('key is required and must be a non-empty string');
  if (key.includes('||')) throw malformed(`input key/keyPrefix '${key}' can't contain '||'`);
  return key;
}

function stringRecord(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isDict(value)) throw malformed(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw malformed(`${field}.${k} must be a string`);
  }
  return out;
}

function etagOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  // The SDK types ETags as {value}; accept that shape as well as daprd's plain string.
  if (isDict(value) && typeof value.value === 'string') return value.value === '' ? undefined : value.value;
  throw malformed('etag must be a string');
}

function concurrencyOf(options: unknown): boolean {
  if (options === undefined || options === null) return false;
  if (!isDict(options)) throw malformed('options must be an object');
  const c = options.concurrency;
  if (c === undefined || c === null || c === '' || c === 'last-write') return false;
  if (c === 'first-write') return true;
  throw malformed(`options.concurrency must be first-write or last-write, got ${JSON.stringify(c)}`);
}

function ttlOf(metadata: Record<string, string>): number | undefined {
  try {
    return parseTtl(metadata.ttlInSeconds, 'metadata.ttlInSeconds');
  } catch (err) {
    throw malformed(errorMessage(err));
  }
}

/** Runs a store call under the component's outbound policy; ETag outcomes are the caller's, not the store's fault. */
async function underPolicy<T>(deps: StateApiDeps, entry: StateStoreEntry, call: () => Promise<T>): Promise<T> {
  try {
    return await deps.resiliency.componentOutbound(entry.spec.name, entry.spec.type).run(async () => {
      try {
        return await call();
      } catch (err) {
        if (err instanceof EtagMismatchError || err instanceof EtagInvalidError) throw new PermanentOutcome(err);
        throw err;
      }
    });
  } catch (err) {
    throw err instanceof PermanentOutcome ? err.cause : err;
  }
}

export async function getState(deps: StateApiDeps, storeName: string, key: string): Promise<ApiResult> {
  const entry = storeFor(deps, storeName);
  checkKey(key);
  let item;
  try {
    item = await underPolicy(deps, entry, () => entry.store.get(entry.keyPrefix + key));
  } catch (err) {
    return daprError(500, 'ERR_STATE_GET', `fail to get ${key} from state store ${storeName}: ${errorMessage(err)}`);
  }
  if (!item) return { status: 204 };
  const headers: Record<string, string> = { 'content-type': 'application/json', etag: item.etag };
  if (item.expiresAt !== undefined) headers['metadata.ttlExpireTime'] = new Date(item.expiresAt).toISOString();
  return { status: 200, headers, body: item.value };
}

export async function saveState(
  deps: StateApiDeps,
  storeName: string,
  body: Buffer,
  queryMetadata: Record<string, string>,
): Promise<ApiResult> {
  const entry = storeFor(deps, storeName);
  const parsed = parseJson(body);
  if (!Array.isArray(parsed)) throw malformed('the body must be a JSON array of state items');
  // Validate every item before writing any.
  const requests = parsed.map((raw: unknown, i: number) => {
    if (!isDict(raw)) throw malformed(`item ${i} must be an object`);
    const key = checkKey(raw.key);
    const metadata = { ...stringRecord(raw.metadata, `item ${i} metadata`), ...queryMetadata };
    return {
      key,
      value: JSON.stringify(raw.value === undefined ? null : raw.value),
      etag: etagOf(raw.etag),
      firstWrite: concurrencyOf(raw.options),
      ttlSeconds: ttlOf(metadata),
    };
  });
  for (const req of requests) {
    try {
      await underPolicy(deps, entry, () => entry.store.set({ ...req, key: entry.keyPrefix + req.key }));
    } catch (err) {
      if (err instanceof EtagMismatchError) {
        return daprError(
          409,
          'ERR_STATE_SAVE',
          `failed saving state in state store ${storeName}: possible etag mismatch. error from state store: ${err.message}`,
        );
      }
      if (err instanceof EtagInvalidError) {
        return daprError(400, 'ERR_STATE_SAVE', `failed saving state in state store ${storeName}: ${err.message}`);
      }
      return daprError(500, 'ERR_STATE_SAVE', `failed saving state in state store ${storeName}: ${errorMessage(err)}`);
    }
  }
  return { status: 204 };
}

export async function bulkGetState(deps: StateApiDeps, storeName: string, body: Buffer): Promise<ApiResult> {
  const entry = storeFor(deps, storeName);
  const parsed = parseJson(body);
  if (!isDict(parsed) || !Array.isArray(parsed.keys)) throw malformed('the body must be {"keys": [...]}');
  const keys = parsed.keys.map(checkKey);
  const parts = await Promise.all(
    keys.map(async (key) => {
      try {
        const item = await underPolicy(deps, entry, () => entry.store.get(entry.keyPrefix + key));
        if (!item) return JSON.stringify({ key });
        // `data` is the stored JSON text, embedded as-is.
        return `{"key":${JSON.stringify(key)},"data":${item.value},"etag":${JSON.stringify(item.etag)}}`;
      } catch (err) {
        return JSON.stringify({ key, error: errorMessage(err) });
      }
    }),
  );
  return { status: 200, headers: { 'content-type': 'application/json' }, body: `[${parts.join(',')}]` };
}

export async function deleteState(
  deps: StateApiDeps,
  storeName: string,
  key: string,
  ifMatch: string | undefined,
  query: URLSearchParams,
): Promise<ApiResult> {
  const entry = storeFor(deps, storeName);
  checkKey(key);
  const concurrency = query.get('concurrency') ?? '';
  if (!['', 'first-write', 'last-write'].includes(concurrency))
    throw malformed(`concurrency must be first-write or last-write, got "${concurrency}"`);
  const etag = ifMatch === undefined || ifMatch === '' ? undefined : ifMatch;
  try {
    await underPolicy(deps, entry, () =>
      entry.store.delete({ key: entry.keyPrefix + key, etag, firstWrite: concurrency === 'first-write' }),
    );
  } catch (err) {
    if (err instanceof EtagMismatchError) {
      return daprError(
        409,
        'ERR_STATE_DELETE',
        `failed deleting state with key ${key}: possible etag mismatch. error from state store: ${err.message}`,
      );
    }
    if (err instanceof EtagInvalidError)
      return daprError(400, 'ERR_STATE_DELETE', `failed deleting state with key ${key}: ${err.message}`);
    return daprError(500, 'ERR_STATE_DELETE', `failed deleting state with key ${key}: ${errorMessage(err)}`);
  }
  return { status: 204 };
}

export async function transactState(
  deps: StateApiDeps,
  storeName: string,
  body: Buffer,
  queryMetadata: Record<string, string>,
): Promise<ApiResult> {
  const entry = storeFor(deps, storeName);
  if (!entry.store.features.includes('TRANSACTIONAL')) {
    return daprError(500, 'ERR_STATE_STORE_NOT_SUPPORTED', `state store ${storeName} doesn't support transaction`);
  }
  const parsed = parseJson(body);
  if (!isDict(parsed)) throw malformed('the body must be {"operations": [...]}');
  const rawOps = parsed.operations ?? [];
  if (!Array.isArray(rawOps)) throw malformed('operations must be an array');
  const shared = { ...stringRecord(parsed.metadata, 'metadata'), ...queryMetadata };
  const ops: TransactionOperation[] = rawOps.map((raw: unknown, i: number) => {
    if (!isDict(raw)) throw malformed(`operation ${i} must be an object`);
    if (raw.operation !== 'upsert' && raw.operation !== 'delete') {
      throw new DaprApiError(
        400,
        'ERR_NOT_SUPPORTED_STATE_OPERATION',
        `operation type ${String(raw.operation)} not supported`,
      );
    }
    const request = isDict(raw.request) ? raw.request : {};
    const key = entry.keyPrefix + checkKey(request.key);
    const metadata = { ...shared, ...stringRecord(request.metadata, `operation ${i} metadata`) };
    const etag = etagOf(request.etag);
    const firstWrite = concurrencyOf(request.options);
    if (raw.operation === 'delete') return { operation: 'delete', key, etag, firstWrite };
    return {
      operation: 'upsert',
      key,
      etag,
      firstWrite,
      value: JSON.stringify(request.value === undefined ? null : request.value),
      ttlSeconds: ttlOf(metadata),
    };
  });
  try {
    await underPolicy(deps, entry, () => entry.store.multi(ops));
  } catch (err) {
    return daprError(500, 'ERR_STATE_TRANSACTION', `error while executing state transaction: ${errorMessage(err)}`);
  }
  return { status: 204 };
}
