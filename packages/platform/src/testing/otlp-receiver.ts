/**
 * An OTLP/HTTP receiver for tests: a node:http server on port 0 accepting `POST /v1/traces` and
 * `POST /v1/metrics`, which is what a service exports to when OTEL_EXPORTER_OTLP_ENDPOINT is its
 * `endpoint`. The platform's exporters (@opentelemetry/exporter-{trace,metrics}-otlp-http) send
 * OTLP/JSON (`application/json`, the encoding those packages document; the `-proto` packages
 * would send protobuf). Anything else is answered 415 and recorded in `rejected`, so a change of
 * wire format fails a test by name instead of losing data.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** resource attribute service.name */
  service: string;
  attributes: Record<string, unknown>;
}

export type ReceivedMetricKind = 'histogram' | 'counter' | 'updowncounter' | 'gauge' | 'other';

/** One data point of one export, flattened: a sum or gauge's value, or a histogram's count and sum. */
export interface ReceivedDataPoint {
  /** resource attribute service.name */
  service: string;
  resource: Record<string, unknown>;
  name: string;
  unit: string;
  kind: ReceivedMetricKind;
  attributes: Record<string, unknown>;
  /** a gauge's or sum's value; a histogram's sum */
  value: number;
  /** a histogram's count of measurements (undefined for the other kinds) */
  count: number | undefined;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value?: OtlpValue;
}
interface OtlpResource {
  attributes?: OtlpAttribute[];
}
interface OtlpTraceExport {
  resourceSpans?: Array<{
    resource?: OtlpResource;
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        attributes?: OtlpAttribute[];
      }>;
    }>;
  }>;
}
interface OtlpNumberPoint {
  attributes?: OtlpAttribute[];
  asInt?: number | string;
  asDouble?: number;
}
interface OtlpHistogramPoint {
  attributes?: OtlpAttribute[];
  count?: number | string;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints?: OtlpNumberPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  histogram?: { dataPoints?: OtlpHistogramPoint[] };
  exponentialHistogram?: { dataPoints?: OtlpHistogramPoint[] };
}
interface OtlpMetricsExport {
  resourceMetrics?: Array<{ resource?: OtlpResource; scopeMetrics?: Array<{ metrics?: OtlpMetric[] }> }>;
}

/** OTLP/JSON ids are hex; tolerate base64 (the protobuf-JSON default) too. */
function hexId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  if (/^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function attributeValue(value: OtlpValue | undefined): unknown {
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, attributeValue(a.value)]));
}

function numberOf(point: OtlpNumberPoint): number {
  return Number(point.asInt ?? point.asDouble ?? 0);
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly dataPoints: ReceivedDataPoint[] = [];
  /** requests that could not be decoded, with the reason */
  readonly rejected: string[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const outcome = this.accept(req, Buffer.concat(chunks));
      res.writeHead(outcome.status, { 'content-type': 'application/json' }).end(outcome.body);
    });
  });
  /** set by start(): the base URL for OTEL_EXPORTER_OTLP_ENDPOINT */
  endpoint = '';

  private constructor() {}

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.server.address() as AddressInfo;
    receiver.endpoint = `http://127.0.0.1:${port}`;
    return receiver;
  }

  private accept(req: http.IncomingMessage, raw: Buffer): { status: number; body: string } {
    const signal = req.method === 'POST' ? req.url : undefined;
    if (signal !== '/v1/traces' && signal !== '/v1/metrics') return { status: 404, body: '{}' };
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) {
      this.rejected.push(`${signal}: content-type ${type} (only OTLP/JSON is decoded)`);
      return { status: 415, body: '{}' };
    }
    try {
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (signal === '/v1/traces') this.acceptSpans(parsed as OtlpTraceExport);
      else this.acceptMetrics(parsed as OtlpMetricsExport);
      return { status: 200, body: '{}' };
    } catch (err) {
      this.rejected.push(err instanceof Error ? err.message : String(err));
      return { status: 400, body: '{}' };
    }
  }

  private acceptSpans(parsed: OtlpTraceExport): void {
    for (const resourceSpans of parsed.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? 'unknown');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            traceId: hexId(span.traceId) ?? '',
            spanId: hexId(span.spanId) ?? '',
            parentSpanId: hexId(span.parentSpanId),
            name: span.name,
            service,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
  }

  private acceptMetrics(parsed: OtlpMetricsExport): void {
    for (const resourceMetrics of parsed.resourceMetrics ?? []) {
      const resource = attributesOf(resourceMetrics.resource?.attributes);
      const service = String(resource['service.name'] ?? 'unknown');
      for (const scope of resourceMetrics.scopeMetrics ?? []) {
        for (const metric of scope.metrics ?? []) {
          const base = { service, resource, name: metric.name, unit: metric.unit ?? '' };
          if (metric.sum || metric.gauge) {
            const kind: ReceivedMetricKind = metric.gauge
              ? 'gauge'
              : metric.sum?.isMonotonic
                ? 'counter'
                : 'updowncounter';
            for (const point of (metric.sum ?? metric.gauge)?.dataPoints ?? []) {
              const attributes = attributesOf(point.attributes);
              this.dataPoints.push({ ...base, kind, attributes, value: numberOf(point), count: undefined });
            }
          } else if (metric.histogram || metric.exponentialHistogram) {
            for (const point of (metric.histogram ?? metric.exponentialHistogram)?.dataPoints ?? []) {
              const attributes = attributesOf(point.attributes);
              const count = Number(point.count ?? 0);
              this.dataPoints.push({ ...base, kind: 'histogram', attributes, value: point.sum ?? 0, count });
            }
          } else {
            this.dataPoints.push({ ...base, kind: 'other', attributes: {}, value: 0, count: undefined });
          }
        }
      }
    }
  }

  /** service.name → span names, of one trace */
  servicesOf(traceId: string): Map<string, string[]> {
    const byService = new Map<string, string[]>();
    for (const span of this.spans.filter((s) => s.traceId === traceId)) {
      byService.set(span.service, [...(byService.get(span.service) ?? []), span.name]);
    }
    return byService;
  }

  /** Every metric name received so far, sorted (a dashboard check compares its queries with these). */
  metricNames(): string[] {
    return [...new Set(this.dataPoints.map((p) => p.name))].sort();
  }

  /** Every metric received so far, once per name, unit and kind (what a dashboard check translates to series names). */
  metrics(): Array<Pick<ReceivedDataPoint, 'name' | 'unit' | 'kind'>> {
    const byKey = new Map<string, Pick<ReceivedDataPoint, 'name' | 'unit' | 'kind'>>();
    for (const { name, unit, kind } of this.dataPoints) byKey.set(`${name}|${unit}|${kind}`, { name, unit, kind });
    return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The data points of one metric, optionally of one service. */
  pointsOf(name: string, service?: string): ReceivedDataPoint[] {
    return this.dataPoints.filter((p) => p.name === name && (service === undefined || p.service === service));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
