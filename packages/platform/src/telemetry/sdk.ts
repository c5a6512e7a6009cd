/** The OpenTelemetry Node SDK with OTLP export, loaded by `startTelemetry` only when tracing is on. */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { REDACTED_QUERY_PARAMS, type Telemetry } from './index';

export function startSdk(options: { serviceName: string; endpoint: string; version?: string }): Telemetry {
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
