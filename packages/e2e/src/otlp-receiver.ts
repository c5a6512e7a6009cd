/**
 * An OTLP/HTTP trace receiver for tests: a node:http server on port 0 accepting
 * `POST /v1/traces`. The platform exports with @opentelemetry/exporter-trace-otlp-http, which
 * sends OTLP/JSON (`application/json`; ids as hex strings); anything else is answered 415 and
 * recorded, so a change of wire format fails the test by name instead of losing spans.
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
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
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

/** OTLP/JSON ids are hex; tolerate base64 (the protobuf-JSON default) too. */
function hexId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  if (/^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function attributeValue(value: OtlpValue | undefined): unknown {
  if (!value) return undefined;
  return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, attributeValue(a.value)]));
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
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
    if (req.method !== 'POST' || req.url !== '/v1/traces') return { status: 404, body: '{}' };
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) {
      this.rejected.push(`content-type ${type} (only OTLP/JSON is decoded)`);
      return { status: 415, body: '{}' };
    }
    try {
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const parsed = JSON.parse(body.toString('utf8')) as OtlpExport;
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
      return { status: 200, body: '{}' };
    } catch (err) {
      this.rejected.push(err instanceof Error ? err.message : String(err));
      return { status: 400, body: '{}' };
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

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
