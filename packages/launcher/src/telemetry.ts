/**
 * `npm start -- --telemetry[=URL]`: where the apps send OTLP, and what the banner says about it.
 * The probe only asks whether something answers HTTP at the URL and whether a Jaeger UI answers
 * on the same host; it runs while the platform starts, so it costs no start time.
 */
import http from 'node:http';

export const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318';
/** Metrics every 10 s on a laptop (OTel's default is 60 s: too slow to watch a change). */
export const LAPTOP_METRIC_EXPORT_INTERVAL_MS = 10_000;
const JAEGER_UI_PORT = 16686;
const PROBE_TIMEOUT_MS = 1_500;

/** `--telemetry` alone means the default endpoint (parseArgs wants a value for a string option). */
export function normaliseTelemetryArgs(argv: readonly string[]): string[] {
  return argv.map((arg) => (arg === '--telemetry' ? `--telemetry=${DEFAULT_OTLP_ENDPOINT}` : arg));
}

/** The endpoint as an http(s) base URL without a trailing slash, or undefined when it is not one. */
export function parseOtlpEndpoint(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** Resolves with the HTTP status anything at `url` answers with, or undefined when nothing does. */
function answers(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** The banner's telemetry lines: whether anything listens, and where to look. */
export async function describeTelemetry(endpoint: string): Promise<string[]> {
  const host = new URL(endpoint).hostname;
  const jaegerUi = `http://${host.includes(':') ? `[${host}]` : host}:${JAEGER_UI_PORT}`;
  const [receiver, ui] = await Promise.all([
    endpoint.startsWith('http:') ? answers(`${endpoint}/v1/traces`) : Promise.resolve(undefined),
    answers(`${jaegerUi}/`),
  ]);
  const lines = [`Telemetry: traces and metrics over OTLP/HTTP to ${endpoint} (metrics every 10 s)`];
  if (receiver === undefined) {
    lines.push(
      `  nothing answers there yet: the apps keep exporting and drop what nobody takes. To see traces, run Jaeger:`,
      `    docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:2.10.0   (then open ${jaegerUi})`,
      `  or any OpenTelemetry Collector with an OTLP/HTTP receiver on that port (docs/observability.md)`,
    );
  } else if (ui !== undefined) {
    lines.push(`  an OTLP receiver answers; Jaeger's UI: ${jaegerUi} (traces; it keeps no metrics)`);
  } else {
    lines.push(`  an OTLP receiver answers (a collector?): look where it exports to (docs/observability.md)`);
  }
  return lines;
}
