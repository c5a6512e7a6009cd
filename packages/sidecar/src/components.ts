/**
 * Turns loaded Component resources into live components: resolves `secretKeyRef` (secret
 * stores are initialised first) and `envRef`, checks the type and its required metadata,
 * connects to backends. A failure names the file, component and field, or, with
 * `ignoreErrors: true`, becomes a warning and the component is skipped, like daprd.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ComponentSpec } from './resources/types';
import { SidecarStartupError, errorMessage } from './errors';
import type { RawComponent } from './resources/types';
import { CronBinding } from './bindings/cron';
import type { InputBinding, OutputBinding } from './bindings/binding';
import { SmtpBinding } from './bindings/smtp';
import { LocalEnvSecretStore } from './secrets/local-env';
import { LocalFileSecretStore } from './secrets/local-file';
import type { SecretStore } from './secrets/store';
import { InMemoryStateStore } from './state/memory';
import { RedisStateStore } from './state/redis';
import { parseTtl, type StateStore } from './state/store';

interface TypeInfo {
  required: string[];
  capabilities: string[];
}

/** Component types this sidecar implements (pub/sub types are run by src/pubsub). */
const KNOWN_TYPES: Record<string, TypeInfo> = {
  'state.in-memory': { required: [], capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL'] },
  'state.redis': { required: ['redisHost'], capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL'] },
  'secretstores.local.file': { required: ['secretsFile'], capabilities: [] },
  'secretstores.local.env': { required: [], capabilities: [] },
  'bindings.smtp': { required: [], capabilities: [] },
  'bindings.cron': { required: ['schedule'], capabilities: [] },
  'pubsub.in-memory': { required: [], capabilities: ['SUBSCRIBE_WILDCARDS'] },
  'pubsub.rabbitmq': { required: [], capabilities: [] },
  // Quizmesh-only: the in-memory broker shared by the sidecars of one machine (npm start).
  'pubsub.local-network': { required: [], capabilities: [] },
};

export interface StateStoreEntry {
  spec: ComponentSpec;
  store: StateStore;
  /** prefix including the `||` separator, '' for none */
  keyPrefix: string;
}

export interface InputBindingEntry {
  spec: ComponentSpec;
  binding: InputBinding;
  route: string;
}

export interface ComponentSet {
  /** every initialised component, for /v1.0/metadata */
  all: Array<{ spec: ComponentSpec; capabilities: string[] }>;
  stateStores: Map<string, StateStoreEntry>;
  secretStores: Map<string, { spec: ComponentSpec; store: SecretStore }>;
  outputBindings: Map<string, { spec: ComponentSpec; binding: OutputBinding }>;
  inputBindings: Map<string, InputBindingEntry>;
  pubsub: ComponentSpec[];
  close(): Promise<void>;
}

export interface ComponentContext {
  appId: string;
  namespace: string | undefined;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

function fail(raw: RawComponent, field: string, problem: string): never {
  throw new SidecarStartupError(`${raw.sourceFile}: Component "${raw.name}" (${raw.type}): ${field}: ${problem}`);
}

/** dapr pkg/runtime/meta/meta.go ToBaseMetadata: `{podName}` without a pod name fails the component. */
function applyTemplates(raw: RawComponent, field: string, value: string, ctx: ComponentContext): string {
  if (value.includes('{podName}') && !ctx.env.POD_NAME)
    fail(raw, field, 'refers to {podName} but podName is not set (set POD_NAME, as the Dapr injector does)');
  return value
    .replaceAll('{uuid}', randomUUID())
    .replaceAll('{appID}', ctx.appId)
    .replaceAll('{podName}', ctx.env.POD_NAME ?? '')
    .replaceAll('{namespace}', `${ctx.namespace ?? 'default'}.${ctx.appId}`);
}

function keyPrefixFor(spec: ComponentSpec, ctx: ComponentContext): string {
  const strategy = spec.metadata.keyPrefix ?? 'appid';
  switch (strategy.toLowerCase()) {
    case 'appid':
      return ctx.appId === '' ? '' : `${ctx.appId}||`;
    case 'name':
      return `${spec.name}||`;
    case 'namespace':
      return ctx.namespace === undefined || ctx.namespace === '' ? `${ctx.appId}||` : `${ctx.namespace}.${ctx.appId}||`;
    case 'none':
      return '';
    default:
      if (strategy.includes('||')) throw new SidecarStartupError(`keyPrefix "${strategy}" must not contain "||"`);
      return `${strategy}||`;
  }
}

function boolMeta(raw: RawComponent, metadata: Record<string, string>, field: string): boolean {
  const value = metadata[field];
  if (value === undefined || value === '') return false;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  return fail(raw, `spec.metadata[${field}]`, `must be true or false, got "${value}"`);
}

function intMeta(raw: RawComponent, metadata: Record<string, string>, field: string, fallback: number): number {
  const value = metadata[field];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) return fail(raw, `spec.metadata[${field}]`, `must be an integer, got "${value}"`);
  return n;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not complete within initTimeout ${ms}ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function initComponents(rawComponents: RawComponent[], ctx: ComponentContext): Promise<ComponentSet> {
  const set: ComponentSet = {
    all: [],
    stateStores: new Map(),
    secretStores: new Map(),
    outputBindings: new Map(),
    inputBindings: new Map(),
    pubsub: [],
    close: async () => {
      const closing: Array<Promise<void>> = [];
      for (const { store } of set.stateStores.values()) closing.push(store.close());
      for (const { binding } of set.outputBindings.values()) closing.push(binding.close());
      for (const { binding } of set.inputBindings.values()) closing.push(binding.close());
      await Promise.allSettled(closing);
    },
  };
  const secretStoresFirst = [...rawComponents].sort(
    (a, b) => Number(!a.type.startsWith('secretstores.')) - Number(!b.type.startsWith('secretstores.')),
  );
  try {
    for (const raw of secretStoresFirst) {
      try {
        await initOne(raw, ctx, set);
      } catch (err) {
        if (!raw.ignoreErrors)
          throw err instanceof SidecarStartupError ? err : new SidecarStartupError(errorMessage(err));
        ctx.logger.warn(
          { component: raw.name, file: raw.sourceFile, err: errorMessage(err) },
          'component failed to initialise; skipped because ignoreErrors is true',
        );
      }
    }
  } catch (err) {
    await set.close();
    throw err;
  }
  return set;
}

async function resolveMetadata(
  raw: RawComponent,
  ctx: ComponentContext,
  set: ComponentSet,
): Promise<Record<string, string>> {
  const metadata: Record<string, string> = {};
  for (const item of raw.metadataItems) {
    const field = `spec.metadata[${item.name}]`;
    if (item.secretKeyRef) {
      if (raw.secretStore === undefined)
        fail(raw, `${field}.secretKeyRef`, 'needs auth.secretStore naming the secret store to read it from');
      const store = set.secretStores.get(raw.secretStore);
      if (!store)
        fail(raw, `${field}.secretKeyRef`, `secret store "${raw.secretStore}" (auth.secretStore) is not loaded`);
      let secret: Record<string, string>;
      try {
        secret = await store.store.get(item.secretKeyRef.name);
      } catch (err) {
        return fail(
          raw,
          `${field}.secretKeyRef`,
          `cannot read secret "${item.secretKeyRef.name}" from "${raw.secretStore}": ${errorMessage(err)}`,
        );
      }
      const value = secret[item.secretKeyRef.key];
      if (value === undefined)
        fail(
          raw,
          `${field}.secretKeyRef.key`,
          `secret "${item.secretKeyRef.name}" has no key "${item.secretKeyRef.key}"`,
        );
      metadata[item.name] = value;
    } else if (item.envRef !== undefined) {
      metadata[item.name] = ctx.env[item.envRef] ?? '';
    } else {
      metadata[item.name] = applyTemplates(raw, field, item.value ?? '', ctx);
    }
  }
  return metadata;
}

async function initOne(raw: RawComponent, ctx: ComponentContext, set: ComponentSet): Promise<void> {
  const info = KNOWN_TYPES[raw.type];
  if (!info)
    fail(raw, 'spec.type', `unknown component type "${raw.type}" (supported: ${Object.keys(KNOWN_TYPES).join(', ')})`);
  if (!['v1', 'v0', ''].includes(raw.version))
    fail(raw, 'spec.version', `unsupported version "${raw.version}" (supported: v1)`);
  const metadata = await resolveMetadata(raw, ctx, set);
  for (const field of info.required) {
    if ((metadata[field] ?? '') === '') fail(raw, `spec.metadata[${field}]`, 'is required');
  }
  const spec: ComponentSpec = {
    name: raw.name,
    type: raw.type,
    version: raw.version === '' ? 'v1' : raw.version,
    metadata,
    ignoreErrors: raw.ignoreErrors,
    scopes: raw.scopes,
    sourceFile: raw.sourceFile,
  };
  const family = raw.type.split('.')[0];
  switch (raw.type) {
    case 'state.in-memory':
    case 'state.redis': {
      let keyPrefix: string;
      let defaultTtl: number | undefined;
      try {
        keyPrefix = keyPrefixFor(spec, ctx);
        defaultTtl = parseTtl(metadata.ttlInSeconds, 'ttlInSeconds');
      } catch (err) {
        return fail(raw, 'spec.metadata', errorMessage(err));
      }
      let store: StateStore;
      if (raw.type === 'state.in-memory') {
        // persistPath: a local extension (daprd ignores it) that keeps the store in a file per
        // app and component, so `npm start` keeps inboxes and dead letters across restarts.
        const persistPath = metadata.persistPath || undefined;
        const owner = ctx.namespace ? `${ctx.namespace}.${ctx.appId}` : ctx.appId;
        try {
          store = new InMemoryStateStore({
            persistFile:
              persistPath === undefined ? undefined : join(resolve(persistPath), `${owner}.${raw.name}.json`),
          });
        } catch (err) {
          return fail(raw, 'spec.metadata[persistPath]', errorMessage(err));
        }
      } else {
        const hostPort = metadata.redisHost ?? '';
        const colon = hostPort.lastIndexOf(':');
        const host = colon > 0 ? hostPort.slice(0, colon) : hostPort;
        const port = colon > 0 ? Number(hostPort.slice(colon + 1)) : 6379;
        if (!Number.isInteger(port) || port <= 0)
          fail(raw, 'spec.metadata[redisHost]', `"${hostPort}" is not host:port`);
        if ((metadata.redisType ?? 'node') !== 'node')
          fail(raw, 'spec.metadata[redisType]', 'only "node" is supported locally');
        try {
          store = await withTimeout(
            RedisStateStore.connect({
              host,
              port,
              username: metadata.redisUsername || undefined,
              password: metadata.redisPassword || undefined,
              db: intMeta(raw, metadata, 'redisDB', 0),
              tls: boolMeta(raw, metadata, 'enableTLS'),
              maxRetries: intMeta(raw, metadata, 'redisMaxRetries', 3),
              defaultTtlSeconds: defaultTtl,
              connectTimeoutMs: raw.initTimeoutMs,
            }),
            raw.initTimeoutMs + 500,
            'connecting to Redis',
          );
        } catch (err) {
          return fail(raw, 'spec.metadata[redisHost]', `cannot connect to Redis at ${hostPort}: ${errorMessage(err)}`);
        }
      }
      set.stateStores.set(raw.name, { spec, store, keyPrefix });
      break;
    }
    case 'secretstores.local.file': {
      let store: SecretStore;
      try {
        store = new LocalFileSecretStore(
          metadata.secretsFile ?? '',
          metadata.nestedSeparator || ':',
          boolMeta(raw, metadata, 'multiValued'),
        );
      } catch (err) {
        return fail(
          raw,
          'spec.metadata[secretsFile]',
          `cannot load "${metadata.secretsFile ?? ''}" (relative to ${process.cwd()}): ${errorMessage(err)}`,
        );
      }
      set.secretStores.set(raw.name, { spec, store });
      break;
    }
    case 'secretstores.local.env':
      set.secretStores.set(raw.name, { spec, store: new LocalEnvSecretStore(metadata.prefix ?? '', ctx.env) });
      break;
    case 'bindings.smtp': {
      // contrib bindings/smtp parseMetadata (v1.16.3): host and a non-zero port are required (no
      // default port), and user and password come together. mailboxPath is a local extension
      // (daprd ignores unknown metadata): it writes each message to a folder instead of sending it.
      const host = metadata.host || undefined;
      if (host === undefined)
        return fail(raw, 'spec.metadata[host]', 'is required, as by daprd (host and port fields are required)');
      const port = intMeta(raw, metadata, 'port', 0);
      if (port <= 0 || port > 65535)
        return fail(raw, 'spec.metadata[port]', 'is required, as by daprd (host and port fields are required)');
      if (Boolean(metadata.user) !== Boolean(metadata.password))
        return fail(raw, 'spec.metadata[user]', 'user and password must be set together, as by daprd');
      const defaults: Record<string, string> = {};
      for (const key of ['emailFrom', 'emailTo', 'emailCC', 'emailBCC', 'subject', 'priority']) {
        const value = metadata[key];
        if (value !== undefined && value !== '') defaults[key] = value;
      }
      let binding: SmtpBinding;
      try {
        binding = await SmtpBinding.create({
          host,
          port,
          user: metadata.user || undefined,
          password: metadata.password || undefined,
          skipTLSVerify: boolMeta(raw, metadata, 'skipTLSVerify'),
          mailboxPath: metadata.mailboxPath || undefined,
          defaults,
        });
      } catch (err) {
        return fail(raw, 'spec.metadata[mailboxPath]', errorMessage(err));
      }
      set.outputBindings.set(raw.name, { spec, binding });
      break;
    }
    case 'bindings.cron': {
      let binding: CronBinding;
      try {
        binding = new CronBinding(metadata.schedule ?? '');
      } catch (err) {
        return fail(raw, 'spec.metadata[schedule]', errorMessage(err));
      }
      const route = metadata.route || `/${raw.name}`;
      set.inputBindings.set(raw.name, { spec, binding, route: route.startsWith('/') ? route : `/${route}` });
      break;
    }
    default:
      if (family === 'pubsub') set.pubsub.push(spec);
  }
  set.all.push({ spec, capabilities: info.capabilities });
}
