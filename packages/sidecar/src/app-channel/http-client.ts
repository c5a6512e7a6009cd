/** Buffered HTTP/1.1 requests over keep-alive agents (sidecar→sidecar and sidecar→app). */
import http from 'node:http';
import { NEVER_ABORTED } from '../resiliency/policy';

export interface HttpResponseData {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequestOptions {
  host: string;
  port: number;
  method: string;
  path: string;
  headers: http.OutgoingHttpHeaders;
  body?: Buffer;
  signal?: AbortSignal;
}

export function createKeepAliveAgent(): http.Agent {
  return new http.Agent({
    keepAlive: true,
    maxSockets: Infinity,
    maxFreeSockets: 256,
    scheduling: 'lifo',
    noDelay: true,
  });
}

/** Bodies up to this size are sent as latin1 strings so Node writes headers and body in one syscall. */
const SINGLE_WRITE_LIMIT = 64 * 1024;

/** Ends an outgoing message with `body`: small bodies in the same write as the headers. */
export function endWith(message: http.OutgoingMessage, body: Buffer | undefined): void {
  if (body === undefined || body.length === 0) message.end();
  else if (body.length <= SINGLE_WRITE_LIMIT) message.end(body.toString('latin1'), 'latin1');
  else message.end(body);
}

function once(
  agent: http.Agent,
  options: HttpRequestOptions,
): Promise<HttpResponseData & { reusedSocket: boolean; error?: undefined }> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body && options.body.length > 0) headers['content-length'] = options.body.length;
    else if (!['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(options.method)) headers['content-length'] = 0;
    const req = http.request(
      {
        host: options.host,
        port: options.port,
        method: options.method,
        path: options.path,
        headers,
        agent,
        signal: options.signal === NEVER_ABORTED ? undefined : options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 500,
            headers: res.headers,
            body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks),
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
      err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    endWith(req, options.body);
  });
}

/**
 * One request; sent again only when a pooled keep-alive socket turns out to be closed by the
 * server under us. A server that died leaves every pooled socket to it closed, so this repeats
 * until a fresh connection is used (each failure discards one pooled socket).
 */
export async function httpRequest(agent: http.Agent, options: HttpRequestOptions): Promise<HttpResponseData> {
  for (;;) {
    try {
      return await once(agent, options);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
      if (e.reusedSocket === true && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) continue;
      throw err;
    }
  }
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and headers a proxy must not forward as-is. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'host',
]);
