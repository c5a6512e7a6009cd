/** How the sidecar reaches its own app (implemented by LocalAppChannel in channel.ts). */
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
