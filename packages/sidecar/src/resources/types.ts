/** One `spec.metadata` entry of a Component before secret resolution. */
export interface RawMetadataItem {
  name: string;
  value?: string;
  secretKeyRef?: { name: string; key: string };
  envRef?: string;
}

/** A Component as read from YAML, before its secretKeyRefs are resolved. */
export interface RawComponent {
  name: string;
  type: string;
  version: string;
  ignoreErrors: boolean;
  initTimeoutMs: number;
  metadataItems: RawMetadataItem[];
  secretStore: string | undefined;
  scopes: string[];
  sourceFile: string;
}

export interface RetryPolicySpec {
  policy: 'constant' | 'exponential';
  durationMs: number;
  maxIntervalMs: number;
  /** -1 = unlimited */
  maxRetries: number;
  /** undefined = every failure is retriable */
  httpStatusCodes: Array<[number, number]> | undefined;
}

export interface CircuitBreakerSpec {
  maxRequests: number;
  intervalMs: number;
  timeoutMs: number;
  trip: string;
}

export interface TargetPolicyRefs {
  timeout?: string;
  retry?: string;
  circuitBreaker?: string;
}

/** All Resiliency resources for this app, merged. */
export interface ResiliencySpec {
  timeouts: Map<string, number>;
  retries: Map<string, RetryPolicySpec>;
  circuitBreakers: Map<string, CircuitBreakerSpec>;
  apps: Map<string, TargetPolicyRefs>;
  components: Map<string, { inbound?: TargetPolicyRefs; outbound?: TargetPolicyRefs }>;
}

export interface AclOperation {
  name: string;
  httpVerbs: string[];
  action: 'allow' | 'deny';
}

export interface AclAppPolicy {
  appId: string;
  defaultAction: 'allow' | 'deny' | undefined;
  operations: AclOperation[];
}

export interface AccessControlSpec {
  defaultAction: 'allow' | 'deny' | undefined;
  trustDomain: string;
  policies: AclAppPolicy[];
}

export interface ConfigurationSpec {
  name: string;
  sourceFile: string;
  /** undefined when the Configuration has no accessControl section (everything allowed) */
  accessControl: AccessControlSpec | undefined;
  samplingRate: number;
}

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
