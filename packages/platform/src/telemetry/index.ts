/**
 * OpenTelemetry bootstrap. A service's entry point calls it in its first import (so the
 * providers exist before anything records); ServiceRuntime then calls `instrument()` once the
 * service's modules are loaded, which patches http, undici, express and pg.
 * Traces and metrics are off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; W3C trace context is
 * always used, so `traceparent` from Dapr joins the service's spans to the caller's trace.
 * The SDK is loaded only when telemetry is on; the instruments in `./metrics` use the API
 * alone and record nothing until the SDK has registered its MeterProvider.
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
  /**
   * Patches http, undici, express and pg. ServiceRuntime calls it once the service's modules are
   * loaded and before any app, server or pool exists; idempotent, a no-op when disabled.
   */
  instrument(): void;
  /** flush and stop exporting; safe to call when disabled */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP base URL (`/v1/traces` and `/v1/metrics` are appended); unset = off */
  endpoint?: string;
  version?: string;
  /** resource attribute service.instance.id (default: a random UUID per process) */
  instanceId?: string;
  /** how often metrics are exported (default 60 s) */
  metricExportIntervalMs?: number;
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.endpoint) return { enabled: false, instrument: () => undefined, shutdown: async () => undefined };
  // Loaded here, not imported at the top: a service without tracing never pays for the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof Sdk;
  return startSdk({ ...options, endpoint: options.endpoint });
}

/**
 * Reads OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME (falls back to `serviceName`),
 * OTEL_SERVICE_INSTANCE_ID and OTEL_METRIC_EXPORT_INTERVAL (ms).
 */
export function startTelemetryFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  return startTelemetry({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    ...(env.OTEL_SERVICE_INSTANCE_ID ? { instanceId: env.OTEL_SERVICE_INSTANCE_ID } : {}),
    ...(Number.isInteger(interval) && interval > 0 ? { metricExportIntervalMs: interval } : {}),
  });
}

export * from './metrics';
