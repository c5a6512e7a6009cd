/** One delivery of an event to the app and the meaning of its answer (daprd `postman/http`). */
import { createKeepAliveAgent, httpRequest } from '../app-channel/http-client';

// node:http over a keep-alive pool rather than fetch(): undici's web streams cost several times
// the CPU per small request, and every event crosses this path once per subscriber.
const appAgent = createKeepAliveAgent();

export type DeliveryOutcome =
  { kind: 'success' } | { kind: 'drop'; reason: string } | { kind: 'retry'; reason: string; unreachable?: boolean };

/** Transport errors that mean nothing is listening on the app port (the app is down, not failing). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Headers never copied from message metadata: they are set by the sidecar or are hop-by-hop. */
const reservedHeaders = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'traceparent',
  'tracestate',
  'dapr-api-token',
]);
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerValue = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Message metadata as HTTP headers, skipping what HTTP cannot carry. */
export function metadataHeaders(metadata: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (reservedHeaders.has(key.toLowerCase()) || !headerName.test(key) || !headerValue.test(value)) continue;
    headers[key] = value;
  }
  return headers;
}

/** The `status` field as Go's decoder finds it (exact key first, then case-insensitive). */
function statusField(body: Record<string, unknown>): unknown {
  if ('status' in body) return body.status;
  const key = Object.keys(body).find((name) => name.toLowerCase() === 'status');
  return key === undefined ? undefined : body[key];
}

export function interpretAppResponse(status: number, body: string): DeliveryOutcome {
  if (status >= 200 && status <= 299) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { kind: 'success' }; // empty or non-JSON body
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'success' };
    const appStatus = statusField(parsed as Record<string, unknown>);
    if (appStatus === undefined || appStatus === null || appStatus === '' || appStatus === 'SUCCESS')
      return { kind: 'success' };
    if (typeof appStatus !== 'string') return { kind: 'success' }; // Go fails to decode it and skips the check
    if (appStatus === 'DROP') return { kind: 'drop', reason: 'DROP status returned from app' };
    if (appStatus === 'RETRY') return { kind: 'retry', reason: 'RETRY status returned from app' };
    return { kind: 'retry', reason: `unknown status returned from app: ${appStatus}` };
  }
  if (status === 404)
    return { kind: 'drop', reason: `non-retriable error returned from app: status 404: ${body.slice(0, 200)}` };
  return { kind: 'retry', reason: `retriable error returned from app: status ${status}: ${body.slice(0, 200)}` };
}

export async function postEvent(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<DeliveryOutcome> {
  const target = new URL(url);
  let response: { status: number; body: Buffer };
  try {
    response = await httpRequest(appAgent, {
      host: target.hostname,
      port: Number(target.port || 80),
      method: 'POST',
      path: `${target.pathname}${target.search}`,
      headers,
      body,
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    return {
      kind: 'retry',
      reason: `error returned from app channel while sending pub/sub event to app: ${(err as Error).message}`,
      unreachable: UNREACHABLE_CODES.has((err as NodeJS.ErrnoException).code ?? ''),
    };
  }
  return interpretAppResponse(response.status, response.body.toString('utf8'));
}
