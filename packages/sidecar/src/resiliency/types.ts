/** What the building blocks need from Resiliency (implemented in lookup.ts and policy.ts). */
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
