/**
 * The gateway's HTTP server: the platform's hardened server (problem+json for what Node's
 * parser rejects, CONNECT, missing Host, non-origin-form targets; see @quizmesh/platform
 * server.ts) with the gateway's `maxHeaderSize` and per-address connection cap. It takes `access_token` out of
 * request URLs before Express (and its request log) sees them, and ends the live streams as
 * soon as a shutdown closes it.
 */
import http from 'node:http';
import {
  guardRequests,
  hardenServer,
  serverOptions,
  type PlatformServerOptions,
  type ServiceRuntime,
} from '@quizmesh/platform';
import { separateQueryToken } from './stream/route';

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

export interface GatewayServerOptions extends PlatformServerOptions {
  /** runs when the server starts closing, before it waits for open responses (ends the live streams) */
  beforeClose?: () => void;
}

export function createGatewayServer(
  app: http.RequestListener,
  maxHeaderBytes: number,
  options: GatewayServerOptions = {},
): http.Server {
  const limits = { ...options, maxHeaderBytes };
  const server = new GatewayServer(
    serverOptions(limits),
    guardRequests((req, res) => {
      separateQueryToken(req);
      app(req, res);
    }),
    options.beforeClose,
  );
  return hardenServer(server, limits);
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
      runtime.shutdown.addServer(server);
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      runtime.logger.info({ port: bound }, 'listening');
      resolve(bound);
    });
  });
}
