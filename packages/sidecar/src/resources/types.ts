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
