/**
 * The HTTP server of the sidecar's API: checks `dapr-api-token` (health and the sidecar-to-sidecar
 * endpoint excepted, as in daprd), bounds the body, hands the request to the router and turns
 * whatever it throws into a Dapr error answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DaprApiError, errorMessage } from '../errors';
import { INTERNAL_INVOKE_PREFIX } from '../invoke/api';
import { StatusFailure } from '../resiliency/policy';
import { readBody } from './request';
import { daprError, sendResult } from './respond';
import type { Route } from './router';

export interface ApiServer {
  port: number;
  /** stops accepting, closes idle connections, resolves when every connection has ended */
  close(): Promise<void>;
}

export async function startApiServer(options: {
  port: number;
  address: string;
  apiToken: string | undefined;
  maxRequestBodyBytes: number;
  route: Route;
  logger: Logger;
}): Promise<ApiServer> {
  const { apiToken, maxRequestBodyBytes, route, logger } = options;
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    if (
      apiToken !== undefined &&
      req.headers['dapr-api-token'] !== apiToken &&
      !path.startsWith('/v1.0/healthz') &&
      !path.startsWith(INTERNAL_INVOKE_PREFIX)
    ) {
      req.resume();
      sendResult(res, { status: 401, headers: { 'content-type': 'text/plain' }, body: 'invalid api token' });
      return;
    }
    // Aborted when the caller closes the connection before its answer was sent (daprd: the
    // request's context is cancelled), so an invocation stops retrying for nobody.
    const callerGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) callerGone.abort(new Error('the caller closed the connection'));
    });
    readBody(req, maxRequestBodyBytes)
      .then((body) => route(req, path, rawQuery, body, callerGone.signal))
      .catch((err: unknown) => {
        if (err instanceof DaprApiError) return err.toResult();
        if (err instanceof StatusFailure) return daprError(500, 'ERR_INTERNAL', err.message);
        logger.error({ err: errorMessage(err), path }, 'unhandled error in the sidecar API');
        return daprError(500, 'ERR_INTERNAL', errorMessage(err));
      })
      .then(
        (result) => {
          if (!res.headersSent && !res.destroyed) sendResult(res, result);
        },
        () => res.destroy(),
      );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new Error(`cannot listen on --dapr-http-port ${options.port}: ${errorMessage(err)}`, { cause: err });
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
