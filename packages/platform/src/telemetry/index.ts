/**
 * OpenTelemetry bootstrap. Import and call this before anything else in a service's entry
 * point (auto-instrumentation patches http/express/pg when they are first required).
 * Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; W3C trace context is always
 * used, so `traceparent` from Dapr joins the service's spans to the caller's trace.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

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
  const base = options.endpoint.replace(/\/+$/, '');
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version ?? '0.1.0',
    }),
    traceExporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [
      getNodeAutoInstrumentations({
        // fs and dns spans are noise for a request-level trace.
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (req) => req.url === '/healthz' || req.url === '/readyz',
          // The defaults (AWS/Azure/GCP signatures) plus the token an EventSource passes in the
          // query: span attributes must never carry credentials.
          redactedQueryParams: [...REDACTED_QUERY_PARAMS],
          redactedQueryParamsServer: [...REDACTED_QUERY_PARAMS],
        },
      }),
    ],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

/** Reads OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME (falls back to `serviceName`). */
export function startTelemetryFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  return startTelemetry({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  });
}
