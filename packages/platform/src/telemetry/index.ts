/**
 * OpenTelemetry bootstrap. Import and call this before anything else in a service's entry
 * point (auto-instrumentation patches http/express/pg when they are first required).
 * Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; W3C trace context is always
 * used, so `traceparent` from Dapr joins the service's spans to the caller's trace.
 * The SDK and the auto-instrumentations (about 64 MB and over a second to load) are loaded
 * only when tracing is on.
 */
import type * as Sdk from './sdk';

/** Query parameters replaced by REDACTED in span attributes (incoming and outgoing URLs). */
export const REDACTED_QUERY_PARAMS = [
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'access_token',
  'refresh_token',
  'token',
] as const;

export interface Telemetry {
  enabled: boolean;
  /** flush and stop exporting; safe to call when disabled */
  shutdown(): Promise<void>;
}

export function startTelemetry(options: { serviceName: string; endpoint?: string; version?: string }): Telemetry {
  if (!options.endpoint) return { enabled: false, shutdown: async () => undefined };
  // Loaded here, not imported at the top: a service without tracing never pays for the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof Sdk;
  return startSdk({ ...options, endpoint: options.endpoint });
}

/** Reads OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME (falls back to `serviceName`). */
export function startTelemetryFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  return startTelemetry({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  });
}
