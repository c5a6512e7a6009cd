/**
 * Reads dapr.io resources (Component, Subscription, Resiliency) from `--resources-path`
 * folders and the Configuration from `--config`, the way daprd does in self-hosted mode:
 * every *.yaml / *.yml file directly inside each folder, multi-document files allowed,
 * kinds other than these ignored, resources whose `scopes` exclude this app skipped.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SubscriptionSpec } from './types';
import { parseGoDuration } from '../duration';
import { SidecarStartupError, errorMessage } from '../errors';
import type {
  AccessControlSpec,
  AclAppPolicy,
  CircuitBreakerSpec,
  ConfigurationSpec,
  RawComponent,
  RawMetadataItem,
  ResiliencySpec,
  RetryPolicySpec,
  TargetPolicyRefs,
} from './types';
import { parseTripExpression } from '../resiliency/trip';

export interface LoadedResources {
  components: RawComponent[];
  subscriptions: SubscriptionSpec[];
  resiliency: ResiliencySpec;
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where a resource came from, for error messages: `components/x.yaml: Component "statestore"`. */
class Where {
  constructor(
    readonly file: string,
    readonly kind: string,
    readonly name: string,
  ) {}
  fail(field: string, problem: string): never {
    throw new SidecarStartupError(`${this.file}: ${this.kind} "${this.name}": ${field}: ${problem}`);
  }
}

function str(where: Where, value: unknown, field: string, required: true): string;
function str(where: Where, value: unknown, field: string, required: false): string | undefined;
function str(where: Where, value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) where.fail(field, 'is required');
    return undefined;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return where.fail(field, `must be a string, got ${JSON.stringify(value)}`);
}

function duration(where: Where, value: unknown, field: string): number {
  const text = str(where, value, field, true);
  try {
    return parseGoDuration(text);
  } catch (err) {
    return where.fail(field, errorMessage(err));
  }
}

function stringList(where: Where, value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return where.fail(field, 'must be a list');
  return value.map((v, i) => str(where, v, `${field}[${i}]`, true));
}

export function listResourceFiles(resourcesPaths: string[]): string[] {
  const files: string[] = [];
  for (const dir of resourcesPaths) {
    const abs = resolve(dir);
    let entries: string[];
    try {
      if (!statSync(abs).isDirectory()) throw new Error('not a directory');
      entries = readdirSync(abs);
    } catch (err) {
      throw new SidecarStartupError(`--resources-path ${dir}: cannot read folder: ${errorMessage(err)}`);
    }
    for (const entry of entries.sort()) {
      if (/\.ya?ml$/i.test(entry)) files.push(join(abs, entry));
    }
  }
  return files;
}

interface Document {
  file: string;
  body: Dict;
}

function readDocuments(file: string): Document[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SidecarStartupError(`${file}: cannot read: ${errorMessage(err)}`);
  }
  const docs: Document[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new SidecarStartupError(`${file}: invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const body: unknown = doc.toJS();
    if (body === null || body === undefined) continue;
    if (!isDict(body)) throw new SidecarStartupError(`${file}: every YAML document must be a mapping`);
    docs.push({ file, body });
  }
  return docs;
}

function header(doc: Document): { kind: string; apiVersion: string; where: Where; scopes: string[] } | undefined {
  const kind = doc.body.kind;
  const apiVersion = doc.body.apiVersion;
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith('dapr.io/') || typeof kind !== 'string')
    return undefined;
  const meta = isDict(doc.body.metadata) ? doc.body.metadata : {};
  const where = new Where(doc.file, kind, typeof meta.name === 'string' ? meta.name : '<unnamed>');
  str(where, meta.name, 'metadata.name', true);
  return { kind, apiVersion, where, scopes: stringList(where, doc.body.scopes, 'scopes') };
}

function parseComponent(doc: Document, where: Where, scopes: string[]): RawComponent {
  const spec = isDict(doc.body.spec) ? doc.body.spec : where.fail('spec', 'is required');
  const items: RawMetadataItem[] = [];
  const rawItems = spec.metadata ?? [];
  if (!Array.isArray(rawItems)) where.fail('spec.metadata', 'must be a list of {name, value}');
  rawItems.forEach((item: unknown, i: number) => {
    const field = `spec.metadata[${i}]`;
    if (!isDict(item)) where.fail(field, 'must be a mapping');
    const name = str(where, item.name, `${field}.name`, true);
    const entry: RawMetadataItem = { name };
    if (isDict(item.secretKeyRef)) {
      const secretName = str(where, item.secretKeyRef.name, `spec.metadata[${name}].secretKeyRef.name`, true);
      entry.secretKeyRef = {
        name: secretName,
        key: str(where, item.secretKeyRef.key, `spec.metadata[${name}].secretKeyRef.key`, false) ?? secretName,
      };
    } else if (item.envRef !== undefined) {
      entry.envRef = str(where, item.envRef, `spec.metadata[${name}].envRef`, true);
    } else {
      // Dapr accepts non-string YAML scalars (numbers, booleans) and reads them as text.
      entry.value =
        isDict(item.value) || Array.isArray(item.value)
          ? JSON.stringify(item.value)
          : (str(where, item.value, `spec.metadata[${name}].value`, false) ?? '');
    }
    items.push(entry);
  });
  const auth = isDict(doc.body.auth) ? doc.body.auth : {};
  const ignoreErrors = spec.ignoreErrors === true || spec.ignoreErrors === 'true';
  return {
    name: where.name,
    type: str(where, spec.type, 'spec.type', true),
    version: str(where, spec.version, 'spec.version', false) ?? 'v1',
    ignoreErrors,
    initTimeoutMs: spec.initTimeout === undefined ? 5000 : duration(where, spec.initTimeout, 'spec.initTimeout'),
    metadataItems: items,
    secretStore: str(where, auth.secretStore, 'auth.secretStore', false),
    scopes,
    sourceFile: doc.file,
  };
}

function stringMap(where: Where, value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isDict(value)) return where.fail(field, 'must be a mapping');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = str(where, v, `${field}.${k}`, false) ?? '';
  return out;
}

function parseSubscription(doc: Document, where: Where, apiVersion: string): SubscriptionSpec {
  const spec = isDict(doc.body.spec) ? doc.body.spec : where.fail('spec', 'is required');
  const rules: SubscriptionSpec['rules'] = [];
  if (apiVersion === 'dapr.io/v1alpha1') {
    rules.push({ match: '', path: str(where, spec.route, 'spec.route', true) });
  } else {
    const routes = isDict(spec.routes) ? spec.routes : where.fail('spec.routes', 'is required for dapr.io/v2alpha1');
    const rawRules = routes.rules ?? [];
    if (!Array.isArray(rawRules)) where.fail('spec.routes.rules', 'must be a list');
    rawRules.forEach((rule: unknown, i: number) => {
      if (!isDict(rule)) where.fail(`spec.routes.rules[${i}]`, 'must be a mapping');
      rules.push({
        match: str(where, rule.match, `spec.routes.rules[${i}].match`, true),
        path: str(where, rule.path, `spec.routes.rules[${i}].path`, true),
      });
    });
    const def = str(where, routes.default, 'spec.routes.default', false);
    if (def !== undefined) rules.push({ match: '', path: def });
    if (rules.length === 0) where.fail('spec.routes', 'needs a default route or at least one rule');
  }
  const subscription: SubscriptionSpec = {
    pubsubname: str(where, spec.pubsubname, 'spec.pubsubname', true),
    topic: str(where, spec.topic, 'spec.topic', true),
    rules,
    metadata: stringMap(where, spec.metadata, 'spec.metadata'),
    origin: 'declarative',
  };
  const dlq = str(where, spec.deadLetterTopic, 'spec.deadLetterTopic', false);
  if (dlq !== undefined) subscription.deadLetterTopic = dlq;
  if (isDict(spec.bulkSubscribe)) {
    const bulk = spec.bulkSubscribe;
    subscription.bulkSubscribe = { enabled: bulk.enabled === true || bulk.enabled === 'true' };
    if (bulk.maxMessagesCount !== undefined)
      subscription.bulkSubscribe.maxMessagesCount = Number(bulk.maxMessagesCount);
    if (bulk.maxAwaitDurationMs !== undefined)
      subscription.bulkSubscribe.maxAwaitDurationMs = Number(bulk.maxAwaitDurationMs);
  }
  return subscription;
}

function parseStatusCodes(where: Where, text: string, field: string): Array<[number, number]> {
  return text.split(',').map((part) => {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    if (!m?.[1]) return where.fail(field, `"${part}" is not a status code or range like 500-599`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 100 || to > 599 || to < from) where.fail(field, `"${part}" is not a valid range of HTTP status codes`);
    return [from, to];
  });
}

function parseRetry(where: Where, name: string, raw: unknown): RetryPolicySpec {
  const field = `spec.policies.retries.${name}`;
  if (!isDict(raw)) return where.fail(field, 'must be a mapping');
  const policy = str(where, raw.policy, `${field}.policy`, false) ?? 'constant';
  if (policy !== 'constant' && policy !== 'exponential')
    where.fail(`${field}.policy`, `unknown policy "${policy}" (constant or exponential)`);
  const maxRetries = raw.maxRetries === undefined ? -1 : Number(raw.maxRetries);
  if (!Number.isInteger(maxRetries) || maxRetries < -1) where.fail(`${field}.maxRetries`, 'must be an integer >= -1');
  const matching = isDict(raw.matching) ? raw.matching : {};
  const codes = str(where, matching.httpStatusCodes, `${field}.matching.httpStatusCodes`, false);
  return {
    policy,
    durationMs: raw.duration === undefined ? 5000 : duration(where, raw.duration, `${field}.duration`),
    maxIntervalMs: raw.maxInterval === undefined ? 60_000 : duration(where, raw.maxInterval, `${field}.maxInterval`),
    maxRetries,
    httpStatusCodes:
      codes === undefined ? undefined : parseStatusCodes(where, codes, `${field}.matching.httpStatusCodes`),
  };
}

function parseBreaker(where: Where, name: string, raw: unknown): CircuitBreakerSpec {
  const field = `spec.policies.circuitBreakers.${name}`;
  if (!isDict(raw)) return where.fail(field, 'must be a mapping');
  const trip = str(where, raw.trip, `${field}.trip`, false) ?? 'consecutiveFailures > 5';
  try {
    parseTripExpression(trip);
  } catch (err) {
    where.fail(`${field}.trip`, errorMessage(err));
  }
  const maxRequests = raw.maxRequests === undefined ? 1 : Number(raw.maxRequests);
  if (!Number.isInteger(maxRequests) || maxRequests < 0)
    where.fail(`${field}.maxRequests`, 'must be a non-negative integer');
  return {
    maxRequests: Math.max(1, maxRequests),
    intervalMs: raw.interval === undefined ? 0 : duration(where, raw.interval, `${field}.interval`),
    timeoutMs: raw.timeout === undefined ? 60_000 : duration(where, raw.timeout, `${field}.timeout`),
    trip,
  };
}

function parseRefs(where: Where, raw: unknown, field: string): TargetPolicyRefs {
  if (!isDict(raw)) return where.fail(field, 'must be a mapping');
  const refs: TargetPolicyRefs = {};
  const timeout = str(where, raw.timeout, `${field}.timeout`, false);
  const retry = str(where, raw.retry, `${field}.retry`, false);
  const breaker = str(where, raw.circuitBreaker, `${field}.circuitBreaker`, false);
  if (timeout !== undefined) refs.timeout = timeout;
  if (retry !== undefined) refs.retry = retry;
  if (breaker !== undefined) refs.circuitBreaker = breaker;
  return refs;
}

export function emptyResiliency(): ResiliencySpec {
  return {
    timeouts: new Map(),
    retries: new Map(),
    circuitBreakers: new Map(),
    apps: new Map(),
    components: new Map(),
  };
}

function mergeResiliency(into: ResiliencySpec, doc: Document, where: Where): void {
  const spec = isDict(doc.body.spec) ? doc.body.spec : where.fail('spec', 'is required');
  const policies = isDict(spec.policies) ? spec.policies : {};
  const timeouts = isDict(policies.timeouts) ? policies.timeouts : {};
  for (const [name, value] of Object.entries(timeouts))
    into.timeouts.set(name, duration(where, value, `spec.policies.timeouts.${name}`));
  const retries = isDict(policies.retries) ? policies.retries : {};
  for (const [name, value] of Object.entries(retries)) into.retries.set(name, parseRetry(where, name, value));
  const breakers = isDict(policies.circuitBreakers) ? policies.circuitBreakers : {};
  for (const [name, value] of Object.entries(breakers))
    into.circuitBreakers.set(name, parseBreaker(where, name, value));

  const targets = isDict(spec.targets) ? spec.targets : {};
  const apps = isDict(targets.apps) ? targets.apps : {};
  const check = (refs: TargetPolicyRefs, field: string): TargetPolicyRefs => {
    if (refs.timeout !== undefined && !into.timeouts.has(refs.timeout))
      where.fail(`${field}.timeout`, `unknown timeout policy "${refs.timeout}"`);
    if (refs.retry !== undefined && !into.retries.has(refs.retry))
      where.fail(`${field}.retry`, `unknown retry policy "${refs.retry}"`);
    if (refs.circuitBreaker !== undefined && !into.circuitBreakers.has(refs.circuitBreaker)) {
      where.fail(`${field}.circuitBreaker`, `unknown circuit breaker policy "${refs.circuitBreaker}"`);
    }
    return refs;
  };
  for (const [appId, raw] of Object.entries(apps)) {
    const field = `spec.targets.apps.${appId}`;
    into.apps.set(appId, check(parseRefs(where, raw, field), field));
  }
  const components = isDict(targets.components) ? targets.components : {};
  for (const [name, raw] of Object.entries(components)) {
    const field = `spec.targets.components.${name}`;
    if (!isDict(raw)) where.fail(field, 'must be a mapping');
    const entry: { inbound?: TargetPolicyRefs; outbound?: TargetPolicyRefs } = {};
    if (raw.inbound !== undefined)
      entry.inbound = check(parseRefs(where, raw.inbound, `${field}.inbound`), `${field}.inbound`);
    if (raw.outbound !== undefined)
      entry.outbound = check(parseRefs(where, raw.outbound, `${field}.outbound`), `${field}.outbound`);
    into.components.set(name, entry);
  }
}

/** Loads every resource for `appId` from the given folders. Throws SidecarStartupError naming file, resource and field. */
export function loadResources(resourcesPaths: string[], appId: string, warn: (msg: string) => void): LoadedResources {
  const loaded: LoadedResources = { components: [], subscriptions: [], resiliency: emptyResiliency() };
  const componentFiles = new Map<string, string>();
  for (const file of listResourceFiles(resourcesPaths)) {
    for (const doc of readDocuments(file)) {
      const head = header(doc);
      if (!head) continue;
      if (head.scopes.length > 0 && !head.scopes.includes(appId)) continue;
      switch (head.kind) {
        case 'Component': {
          const component = parseComponent(doc, head.where, head.scopes);
          const previous = componentFiles.get(component.name);
          if (previous !== undefined)
            head.where.fail('metadata.name', `duplicate component name (also defined in ${previous})`);
          componentFiles.set(component.name, file);
          loaded.components.push(component);
          break;
        }
        case 'Subscription':
          loaded.subscriptions.push(parseSubscription(doc, head.where, head.apiVersion));
          break;
        case 'Resiliency':
          mergeResiliency(loaded.resiliency, doc, head.where);
          break;
        case 'Configuration':
          // daprd reads the Configuration from --config, not from the resources path.
          break;
        default:
          warn(`${file}: ${head.kind} "${head.where.name}" is not supported by the local sidecar; skipped`);
      }
    }
  }
  return loaded;
}

function action(where: Where, value: unknown, field: string): 'allow' | 'deny' | undefined {
  const text = str(where, value, field, false);
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (lower !== 'allow' && lower !== 'deny') return where.fail(field, `must be allow or deny, got "${text}"`);
  return lower;
}

/** Reads the Configuration resource given with `--config`. */
export function loadConfiguration(file: string): ConfigurationSpec {
  const abs = resolve(file);
  const docs = readDocuments(abs).filter((d) => d.body.kind === 'Configuration');
  const doc = docs[0];
  if (!doc) throw new SidecarStartupError(`--config ${file}: no dapr.io Configuration resource in this file`);
  const head = header(doc);
  if (!head) throw new SidecarStartupError(`--config ${file}: apiVersion must be dapr.io/v1alpha1`);
  const where: Where = head.where;
  const spec = isDict(doc.body.spec) ? doc.body.spec : {};
  let accessControl: AccessControlSpec | undefined;
  if (isDict(spec.accessControl)) {
    const ac = spec.accessControl;
    const rawPolicies: unknown = ac.policies ?? [];
    if (!Array.isArray(rawPolicies)) where.fail('spec.accessControl.policies', 'must be a list');
    const policies: AclAppPolicy[] = rawPolicies.map((p: unknown, i: number) => {
      const field = `spec.accessControl.policies[${i}]`;
      if (!isDict(p)) return where.fail(field, 'must be a mapping');
      const rawOps: unknown = p.operations ?? [];
      if (!Array.isArray(rawOps)) return where.fail(`${field}.operations`, 'must be a list');
      return {
        appId: str(where, p.appId ?? p.app, `${field}.appId`, true),
        defaultAction: action(where, p.defaultAction, `${field}.defaultAction`),
        operations: rawOps.map((op: unknown, j: number) => {
          const opField = `${field}.operations[${j}]`;
          if (!isDict(op)) return where.fail(opField, 'must be a mapping');
          const verbs = stringList(where, op.httpVerb, `${opField}.httpVerb`).map((v) => v.toUpperCase());
          return {
            name: str(where, op.name, `${opField}.name`, true),
            httpVerbs: verbs.length > 0 ? verbs : ['*'],
            action: action(where, op.action, `${opField}.action`) ?? where.fail(`${opField}.action`, 'is required'),
          };
        }),
      };
    });
    accessControl = {
      defaultAction: action(where, ac.defaultAction, 'spec.accessControl.defaultAction'),
      trustDomain: str(where, ac.trustDomain, 'spec.accessControl.trustDomain', false) ?? 'public',
      policies,
    };
  }
  const tracing = isDict(spec.tracing) ? spec.tracing : {};
  const samplingText = str(where, tracing.samplingRate, 'spec.tracing.samplingRate', false);
  const samplingRate = samplingText === undefined ? 0.0001 : Number(samplingText);
  if (!Number.isFinite(samplingRate) || samplingRate < 0 || samplingRate > 1)
    where.fail('spec.tracing.samplingRate', 'must be a number between 0 and 1');
  return { name: where.name, sourceFile: abs, accessControl, samplingRate };
}
