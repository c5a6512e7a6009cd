/**
 * The OpenTelemetry SDK, loaded by `startTelemetry` only when an OTLP endpoint is set: traces and
 * metrics over OTLP/HTTP (JSON) with one resource. Only the instrumentations the services need are
 * loaded (http, undici, express, pg and the Node runtime's metrics): the all-in-one auto-instrumentation
 * package loaded about forty and cost seconds of start time (docs/decisions/0910).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createNoopMeter, metrics, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { REDACTED_QUERY_PARAMS, type Telemetry, type TelemetryOptions } from './index';

/** OTel's default is 60 s; OTEL_METRIC_EXPORT_INTERVAL (ms) overrides it, as the spec says. */
const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;

/** What the instrumentations patch (pg-pool: pg's Pool, which Prisma's adapter uses). */
const INSTRUMENTED_MODULES = ['http', 'https', 'express', 'pg', 'pg-pool'];

/** The instrumentations' own metrics (old-convention http.server.duration, pg pool gauges) stay out of the catalogue. */
const NO_METRICS: ApiMeterProvider = { getMeter: () => createNoopMeter() };

export function startSdk(options: TelemetryOptions & { endpoint: string }): Telemetry {
  const base = options.endpoint.replace(/\/+$/, '');
  const resource = resourceFromAttributes({
    // Literal keys: the semantic-conventions package is large to load for four names.
    'service.name': options.serviceName,
    'service.version': options.version ?? '0.1.0',
    'service.namespace': 'quizmesh',
    'service.instance.id': options.instanceId ?? randomUUID(),
  });

  const tracerProvider = new NodeTracerProvider({
    resource,
    // BatchSpanProcessor reads OTEL_BSP_SCHEDULE_DELAY and the other OTEL_BSP_* variables itself.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
  });
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() });

  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
        exportIntervalMillis: options.metricExportIntervalMs ?? DEFAULT_METRIC_EXPORT_INTERVAL_MS,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);

  let unregister: (() => void) | undefined;
  /**
   * Hooks `require` only now, after the service's modules are loaded: hooked from the first
   * import, every one of the service's ~1,500 module loads went through require-in-the-middle's
   * extra resolution (about a second of CPU under tsx). The modules to instrument are already
   * loaded, so they are required once more here, which lets the hook patch them in place; the
   * apps, servers and pools are created after this, from the patched modules.
   */
  const instrument = () => {
    if (unregister) return;
    const unregisterTracing = registerInstrumentations({
      tracerProvider,
      meterProvider: NO_METRICS,
      instrumentations: [
        new HttpInstrumentation({
          ignoreIncomingRequestHook: (req) => req.url === '/healthz' || req.url === '/readyz',
          // The defaults (AWS/Azure/GCP signatures) plus the token an EventSource passes in the
          // query: span attributes must never carry credentials.
          redactedQueryParams: [...REDACTED_QUERY_PARAMS],
          redactedQueryParamsServer: [...REDACTED_QUERY_PARAMS],
        }),
        // The gateway's proxy calls its sidecar through undici: this span's context is the traceparent it sends.
        new UndiciInstrumentation(),
        new ExpressInstrumentation(),
        new PgInstrumentation(),
      ],
    });
    const unregisterRuntime = registerInstrumentations({
      tracerProvider,
      meterProvider,
      instrumentations: [new RuntimeNodeInstrumentation()],
    });
    const requireAgain = createRequire(__filename);
    for (const name of INSTRUMENTED_MODULES) requireAgain(name);
    unregister = () => {
      unregisterTracing();
      unregisterRuntime();
    };
  };

  return {
    enabled: true,
    instrument,
    shutdown: async () => {
      unregister?.();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
