/**
 * Internal seams of the sidecar, fixed up front so that the pub/sub building block
 * (src/pubsub/) and the rest of the runtime (HTTP API, resources, resiliency) can be
 * built independently. Change a signature here only together with both sides.
 */
import type { Logger } from 'pino';

/** A dapr.io resource as parsed from YAML, after `secretKeyRef` resolution. */
export interface ComponentSpec {
  /** metadata.name */
  name: string;
  /** spec.type, e.g. `pubsub.rabbitmq` */
  type: string;
  /** spec.version, e.g. `v1` */
  version: string;
  /** spec.metadata flattened to name → value (secretKeyRef already resolved). */
  metadata: Record<string, string>;
  /** spec.ignoreErrors */
  ignoreErrors: boolean;
  /** scopes (empty = every app) */
  scopes: string[];
  /** file the resource was read from, for error messages */
  sourceFile: string;
}

export interface SubscriptionRule {
  /** CEL expression over `event`; empty string = always matches (the default route). */
  match: string;
  path: string;
}

/** One subscription, either from `GET /dapr/subscribe` or from a declarative Subscription resource. */
export interface SubscriptionSpec {
  pubsubname: string;
  topic: string;
  /** tried in order; the default route (if any) is last with match ''. */
  rules: SubscriptionRule[];
  metadata: Record<string, string>;
  deadLetterTopic?: string;
  bulkSubscribe?: { enabled: boolean; maxMessagesCount?: number; maxAwaitDurationMs?: number };
  origin: 'programmatic' | 'declarative';
}

/** Runs one operation under a Resiliency policy (timeout per attempt, retries, circuit breaker). */
export interface PolicyRunner {
  run<T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export interface ResiliencyLookup {
  /** Policy for delivering messages from pub/sub component `name` to the app (targets.components.<name>.inbound, then the Default* chain). */
  componentInbound(name: string, componentType: string): PolicyRunner;
  /** Policy for calls from the sidecar to component `name` (publish, state, bindings, secrets). */
  componentOutbound(name: string, componentType: string): PolicyRunner;
  /**
   * Policy for service invocation to app `appId`; `endpoint` keys its circuit breaker, as daprd's
   * EndpointPolicy: `<appId>:<method>` (or `<url>/<method>` for an http(s) URL target).
   */
  app(appId: string, endpoint: string): PolicyRunner;
}

/** How the sidecar reaches its own app. */
export interface AppChannel {
  appId: string;
  /** e.g. http://127.0.0.1:3001 ; undefined when started without --app-port */
  baseUrl: string | undefined;
  /** sent as `dapr-api-token` to the app when APP_API_TOKEN is set */
  appApiToken: string | undefined;
  /** resolves once the app port accepts connections (and app health is OK, if enabled) */
  waitUntilReady(): Promise<void>;
  /** true when `--enable-app-health-check` is on */
  readonly healthChecksEnabled: boolean;
  /** false while app health checks report the app as unhealthy */
  isHealthy(): boolean;
  /** Calls `listener` on every change of app health (only with health checks on). */
  onHealthChange(listener: (healthy: boolean) => void): void;
  /** Resolves once the app is healthy again; rejects when `signal` aborts. */
  whenHealthy(signal: AbortSignal): Promise<void>;
  /** A delivery found nothing listening on the app port: unhealthy at once (decision 0750). */
  reportUnreachable(reason: string): void;
}

/** A Dapr-style answer: status, optional JSON error body `{errorCode, message}` or raw body. */
export interface ApiResult {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | object;
}

/** What the HTTP API needs from the pub/sub building block. */
export interface PubSubRuntime {
  /** POST|PUT /v1.0/publish/{pubsub}/{topic...} (query already split into `metadata.*` entries). */
  publish(req: {
    pubsubName: string;
    topic: string;
    body: Buffer;
    contentType: string | undefined;
    metadata: Record<string, string>;
    traceparent: string | undefined;
    tracestate: string | undefined;
  }): Promise<ApiResult>;
  /** POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic...} */
  publishBulk(req: {
    pubsubName: string;
    topic: string;
    body: Buffer;
    metadata: Record<string, string>;
  }): Promise<ApiResult>;
  /** Fetch `/dapr/subscribe` once the app is ready, merge declarative subscriptions, start consuming. */
  start(): Promise<void>;
  /** Stop consuming, let in-flight deliveries finish, close broker connections. */
  close(): Promise<void>;
  /** For `GET /v1.0/metadata` */
  describe(): { components: Array<{ name: string; type: string; version: string }>; subscriptions: SubscriptionSpec[] };
}

export interface PubSubRuntimeOptions {
  appId: string;
  /** the local registry directory (pubsub.local-network registers its peers under it) */
  registryDir?: string;
  components: ComponentSpec[];
  declarativeSubscriptions: SubscriptionSpec[];
  app: AppChannel;
  resiliency: ResiliencyLookup;
  logger: Logger;
}

/** Implemented in src/pubsub/index.ts */
export type CreatePubSubRuntime = (options: PubSubRuntimeOptions) => Promise<PubSubRuntime>;
