/** Buffered HTTP/1.1 requests over keep-alive agents (sidecar→sidecar and sidecar→app). */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
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

/** Whether endWith sends headers and `body` in one write. */
function writtenInOnePiece(body: Buffer | undefined): boolean {
  return body === undefined || body.length <= SINGLE_WRITE_LIMIT;
}

/** Ends an outgoing message with `body`: small bodies in the same write as the headers. */
export function endWith(message: http.OutgoingMessage, body: Buffer | undefined): void {
  if (body === undefined || body.length === 0) message.end();
  else if (body.length <= SINGLE_WRITE_LIMIT) message.end(body.toString('latin1'), 'latin1');
  else message.end(body);
}

/** A failed request, with what the client saw of its delivery. */
export type RequestError = NodeJS.ErrnoException & {
  /** sent on a pooled keep-alive connection */
  reusedSocket?: boolean;
  /** see {@link requestUnread} */
  unread?: boolean;
  /** a byte of the response had arrived */
  answerStarted?: boolean;
};

/** Methods Go's net/http client (daprd's app channel) treats as replayable. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Whether the peer's kernel discarded the request before the peer read it whole, from what
 * Linux guarantees about TCP:
 * - ECONNREFUSED: no connection was made.
 * - A reset (RST: a `read`/`write` ECONNRESET, or EPIPE when it followed the peer's FIN) before
 *   any byte of a response, for a request written in one piece: a socket closed with unread data,
 *   a connection still waiting to be accepted when its listener closes, and data arriving at a
 *   closed socket are all answered with RST; a peer that read everything and then closed or
 *   died ends the connection with a FIN, which Node reports as "socket hang up" (no syscall).
 * An app that acts before it has read the whole request (a streaming handler) could have acted
 * on a prefix; ours read whole JSON bodies first.
 */
export function requestUnread(err: unknown): boolean {
  return (err as RequestError | undefined)?.unread === true;
}

function once(agent: http.Agent, options: HttpRequestOptions): Promise<HttpResponseData> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body && options.body.length > 0) headers['content-length'] = options.body.length;
    else if (!['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(options.method)) headers['content-length'] = 0;
    let socket: Socket | undefined;
    let bytesReadBefore = 0;
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
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('socket', (s) => {
      socket = s;
      bytesReadBefore = s.bytesRead;
      // Node caches the peer's address once asked; after a reset it can no longer be asked.
      void s.remotePort;
    });
    req.on('error', (err: RequestError) => {
      err.reusedSocket = req.reusedSocket;
      const noResponseByte = socket !== undefined && socket.bytesRead === bytesReadBefore;
      // Node reads the peer's FIN before a reset that followed it ("socket hang up"); the kernel
      // still knows the reset came: the socket is already closed, not waiting in CLOSE_WAIT.
      const hungUp = err.code === 'ECONNRESET' && err.syscall === undefined;
      if (hungUp && noResponseByte && socket !== undefined && closedByReset(socket)) err.syscall = 'read';
      const reset = (err.code === 'ECONNRESET' || err.code === 'EPIPE') && err.syscall !== undefined;
      err.answerStarted = !noResponseByte;
      err.unread = err.code === 'ECONNREFUSED' || (reset && noResponseByte && writtenInOnePiece(options.body));
      reject(err);
    });
    endWith(req, options.body);
  });
}

const CLOSE_WAIT = '08';

/**
 * Whether the kernel has already closed `socket` on a reset (Linux: it is gone from
 * /proc/net/tcp, or listed as CLOSE), rather than holding it in CLOSE_WAIT after a plain FIN.
 * False when that cannot be read (another OS): the request then counts as possibly read.
 */
function closedByReset(socket: Socket): boolean {
  const { localPort, remotePort } = socket;
  if (localPort === undefined || remotePort === undefined) return false;
  const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  const ports = `:${hex(localPort)} `;
  const remote = `:${hex(remotePort)} `;
  let listed = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      return false;
    }
    listed = true;
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (`${fields[1]} `.endsWith(ports) && `${fields[2]} `.endsWith(remote))
        return fields[3] !== CLOSE_WAIT && fields[3] !== '01';
    }
  }
  return listed;
}

/**
 * One request; sent again to the same peer only on a pooled keep-alive connection the peer had
 * closed before the request arrived (EPIPE: its reset came after its FIN, so the kernel discarded
 * the request, whether the peer lives on or died), or, for an idempotent method, ended before any
 * byte of a response (Go's net/http rule for replayable requests). A reset without a FIN may be
 * a live peer aborting a request it read: the caller decides (requestUnread, stillListening). A
 * server that died leaves every idle pooled socket to it closed, so this repeats until a fresh
 * connection is used (each failure discards one).
 */
export async function httpRequest(agent: http.Agent, options: HttpRequestOptions): Promise<HttpResponseData> {
  for (;;) {
    try {
      return await once(agent, options);
    } catch (err) {
      const e = err as RequestError;
      const endedBeforeAnswer = (e.code === 'ECONNRESET' || e.code === 'EPIPE') && e.answerStarted === false;
      const closedBeforeArrival = e.unread === true && (e.code === 'EPIPE' || e.message === 'socket hang up');
      if (e.reusedSocket === true && (closedBeforeArrival || (endedBeforeAnswer && IDEMPOTENT.has(options.method))))
        continue;
      throw err;
    }
  }
}

/** How long a probe connection must live before its listener counts as alive (see stillListening). */
const LISTENER_GRACE_MS = 100;

/**
 * Whether a live process still listens on `port`, after a request to it was reset unread. A
 * SIGKILLed process keeps its sockets until its last thread is gone: meanwhile the kernel still
 * completes handshakes for its listener, then resets them when the listener closes. So a refused
 * probe, or one reset within LISTENER_GRACE_MS, means the process is gone; a probe that lives on,
 * or is closed, means a live process reset the request itself (it may have read part of it).
 */
export function stillListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ host, port });
    let timer: NodeJS.Timeout | undefined;
    const settle = (listening: boolean): void => {
      clearTimeout(timer);
      probe.destroy();
      resolve(listening);
    };
    probe.once('connect', () => {
      timer = setTimeout(() => settle(true), LISTENER_GRACE_MS);
    });
    probe.once('error', (err: NodeJS.ErrnoException) =>
      settle(err.code !== 'ECONNREFUSED' && err.code !== 'ECONNRESET'),
    );
    // Closed without an error: a live process accepted and closed it (a dying one resets).
    probe.once('close', () => settle(true));
  });
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
