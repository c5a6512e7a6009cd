/**
 * The HTTP server every service (and the gateway) listens with. Node's own server answers
 * what its parser rejects with empty, non-problem responses or none at all; this one answers
 * problem+json wherever a response is still possible:
 *   - parser rejections ('clientError'): header overflow 431, request timeout 408, malformed 400;
 *   - CONNECT ('connect'): 405, nobody here tunnels;
 *   - HTTP/1.1 without Host, and request targets that are not origin-form (absolute-form
 *     `http://host/path`, asterisk-form `*`): 400, before the app (or an upstream) sees them;
 *   - connections beyond a per-address cap: 429, then closed.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { AppError, PROBLEM_CONTENT_TYPE } from './errors';

const PARSER_ERRORS: Record<string, AppError> = {
  HPE_HEADER_OVERFLOW: new AppError(431, {
    code: 'headers-too-large',
    detail: 'request headers are larger than the server accepts',
  }),
  ERR_HTTP_REQUEST_TIMEOUT: new AppError(408, {
    code: 'request-timeout',
    detail: 'the request was not received in time',
  }),
};
const MALFORMED = new AppError(400, { code: 'malformed-request', detail: 'the request is not valid HTTP/1.1' });
const CONNECT = new AppError(405, { code: 'method-not-allowed', detail: 'CONNECT is not supported' });
const MISSING_HOST = new AppError(400, { code: 'missing-host', detail: 'HTTP/1.1 requests must carry a Host header' });
const BAD_TARGET = new AppError(400, {
  code: 'bad-request-target',
  detail: 'the request target must be a path (origin-form), such as /api/v1/quizzes',
});
const TOO_MANY_CONNECTIONS = new AppError(429, {
  code: 'too-many-connections',
  detail: 'too many open connections from this address',
  headers: { 'retry-after': '1' },
});

/** Connections over the cap: answered already, so requests parsed from them are dropped. */
const refused = new WeakSet<Socket>();

/** A complete HTTP/1.1 problem+json response, for sockets no `ServerResponse` exists for. */
export function rawProblem(error: AppError): string {
  const reason = http.STATUS_CODES[error.status] ?? 'Error';
  // The platform's title table has no 408/431: use Node's reason phrase.
  const body = JSON.stringify({ ...error.toProblem(), title: reason });
  const extra = Object.entries(error.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`
  );
}

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already under way on this socket cannot be replaced: just close.
  const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const error = (err.code !== undefined ? PARSER_ERRORS[err.code] : undefined) ?? MALFORMED;
  socket.end(rawProblem(error));
}

/** The request-level checks Node leaves to the application; true when the request was answered. */
function rejectRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  let error: AppError | undefined;
  if (!req.url?.startsWith('/')) error = BAD_TARGET;
  else if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1)
    error = MISSING_HOST;
  if (!error) return false;
  const body = JSON.stringify(error.toProblem());
  res.writeHead(error.status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
  return true;
}

export interface PlatformServerOptions {
  /** largest accepted request header block in bytes (beyond: 431); Node's default when unset */
  maxHeaderBytes?: number;
  /** open connections one remote address may hold; 0 or unset = no cap (e.g. behind a proxy) */
  maxConnectionsPerAddress?: number;
  /** time to receive a request's headers (beyond: 408); Node's default (60 s) when unset */
  headersTimeoutMs?: number;
}

/** Options for `http.Server`: Host is checked by `rejectRequest` (problem+json), not by Node (empty 400). */
export function serverOptions(options: PlatformServerOptions = {}): http.ServerOptions {
  return {
    requireHostHeader: false,
    // Node checks header and request timeouts on this interval (default 30 s): a slow-header
    // client would otherwise hold its connection up to 30 s past the timeout.
    connectionsCheckingInterval: 1_000,
    ...(options.maxHeaderBytes !== undefined ? { maxHeaderSize: options.maxHeaderBytes } : {}),
    ...(options.headersTimeoutMs !== undefined ? { headersTimeout: options.headersTimeoutMs } : {}),
  };
}

/** Wraps a request listener with the checks Node leaves to the application (Host, request-target form). */
export function guardRequests(listener: http.RequestListener): http.RequestListener {
  return (req, res) => {
    if (refused.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    if (!rejectRequest(req, res)) listener(req, res);
  };
}

/** Installs the problem+json answers for parser rejections and CONNECT, and the per-address connection cap. */
export function hardenServer(server: http.Server, options: PlatformServerOptions = {}): http.Server {
  server.on('clientError', answerClientError);
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.end(rawProblem(CONNECT));
  });
  const cap = options.maxConnectionsPerAddress ?? 0;
  if (cap > 0) {
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const count = (open.get(address) ?? 0) + 1;
      if (count > cap) {
        // Answered before any request is read: the client learns why instead of seeing a reset.
        refused.add(socket);
        socket.end(rawProblem(TOO_MANY_CONNECTIONS));
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
  return server;
}

/** A hardened server for `listener` (see the module comment). */
export function createPlatformServer(listener: http.RequestListener, options: PlatformServerOptions = {}): http.Server {
  return hardenServer(http.createServer(serverOptions(options), guardRequests(listener)), options);
}
