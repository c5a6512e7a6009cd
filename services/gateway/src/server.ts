/**
 * The gateway's HTTP server. Unlike the services it sets `maxHeaderSize`, and answers
 * requests the HTTP parser rejects (oversized headers, malformed requests, header timeouts)
 * with problem+json instead of Node's empty default answers. It takes `access_token` out of
 * request URLs before Express (and its request log) sees them, and ends the live streams as
 * soon as a shutdown closes it.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { AppError, PROBLEM_CONTENT_TYPE, type ServiceRuntime } from '@quizmesh/platform';
import { separateQueryToken } from './stream/route';

const PARSER_ERRORS: Record<string, AppError> = {
  HPE_HEADER_OVERFLOW: new AppError(431, {
    code: 'headers-too-large',
    detail: 'request headers are larger than the gateway accepts',
  }),
  ERR_HTTP_REQUEST_TIMEOUT: new AppError(408, {
    code: 'request-timeout',
    detail: 'the request was not received in time',
  }),
};
const MALFORMED = new AppError(400, { code: 'malformed-request', detail: 'the request is not valid HTTP/1.1' });

function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const error = (err.code !== undefined ? PARSER_ERRORS[err.code] : undefined) ?? MALFORMED;
  const reason = http.STATUS_CODES[error.status] ?? 'Error';
  // The platform's title table has no 408/431: use Node's reason phrase.
  const body = JSON.stringify({ ...error.toProblem(), title: reason });
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The platform's drain closes the server and waits for open responses to finish; a live
 * stream never finishes by itself, so `beforeClose` (ending the streams) runs first.
 */
class GatewayServer extends http.Server {
  constructor(
    options: http.ServerOptions,
    listener: http.RequestListener,
    private readonly beforeClose: (() => void) | undefined,
  ) {
    super(options, listener);
  }

  override close(callback?: (err?: Error) => void): this {
    this.beforeClose?.();
    return super.close(callback);
  }
}

export interface GatewayServerOptions {
  /** runs when the server starts closing, before it waits for open responses (ends the live streams) */
  beforeClose?: () => void;
}

export function createGatewayServer(
  app: http.RequestListener,
  maxHeaderBytes: number,
  options: GatewayServerOptions = {},
): http.Server {
  const server = new GatewayServer(
    { maxHeaderSize: maxHeaderBytes },
    (req, res) => {
      separateQueryToken(req);
      app(req, res);
    },
    options.beforeClose,
  );
  server.on('clientError', answerClientError);
  return server;
}

/** Listens like `runtime.listen` (keep-alive longer than load balancers', graceful drain), on our own server. */
export function listenGateway(
  runtime: ServiceRuntime,
  server: http.Server,
  port: number,
  host = runtime.config.LISTEN_ADDRESS,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
      runtime.shutdown.addServer(server);
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      runtime.logger.info({ port: bound }, 'listening');
      resolve(bound);
    });
  });
}
