/**
 * The gateway's forwarding path: a streaming HTTP client to its own sidecar's service
 * invocation API (`/v1.0/invoke/{app}/method/{path}`), keeping status, headers and bodies
 * (docs/decisions/0004). Bodies stream both ways (no buffering of uploads or SSE), bounded by
 * the body limit on the way in and by UPSTREAM_TIMEOUT_MS until the answer's headers arrive.
 *
 * Dapr's own failures (its ERR_DIRECT_INVOKE answers: target down, circuit open, timeout)
 * are turned into 503/504 problem+json; the services' own answers pass through unchanged.
 */
import http from 'node:http';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, USER_ID_HEADER, USER_ROLES_HEADER, type CallerUser } from '@quizmesh/platform';

export interface SidecarProxyOptions {
  sidecarHost: string;
  sidecarPort: number;
  /** the sidecar API token (DAPR_API_TOKEN), when the sidecar requires one */
  daprApiToken: string | undefined;
  upstreamTimeoutMs: number;
  maxBodyBytes: number;
  logger: Logger;
}

export interface ForwardRequest {
  appId: string;
  user: CallerUser | undefined;
  /** an already-read body (login, register); otherwise the request streams */
  body?: Buffer;
  /** the service's path when it differs from the public one; the query string is kept */
  upstreamPath?: string;
}

/** RFC 9110 §7.6.1 connection-specific headers, plus what the gateway sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Headers only the platform may set: a client must never be able to claim a user or a Dapr identity. */
export function isReservedHeader(name: string): boolean {
  return (
    name.startsWith('x-quizmesh-') ||
    name.startsWith('dapr-') ||
    name === 'forwarded' ||
    name.startsWith('x-forwarded-')
  );
}

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
/** Dapr error bodies are small JSON documents; anything bigger is an app's own answer. */
const MAX_DAPR_ERROR_BYTES = 16 * 1024;

function connectionTokens(headers: http.IncomingHttpHeaders): Set<string> {
  return new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

export class SidecarProxy {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' });

  constructor(private readonly options: SidecarProxyOptions) {}

  /**
   * Forwards `req` to `target.appId` and streams the answer into `res`. Resolves with the
   * upstream status once the answer is being sent; rejects with an AppError when nothing
   * was sent yet (413, 502, 503, 504), so the caller's error handler answers.
   */
  forward(req: Request, res: Response, target: ForwardRequest): Promise<number> {
    const headers = this.upstreamHeaders(req, target);
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const method = target.upstreamPath !== undefined ? target.upstreamPath + query : req.originalUrl;
    const path = `/v1.0/invoke/${encodeURIComponent(target.appId)}/method${method}`;
    // A request without a body, or with one already read, can be resent once when a kept-alive
    // socket turns out to have been closed by the sidecar just as we reused it.
    const replayable = target.body !== undefined || !hasBody(req);
    return this.attempt(req, res, target, { path, headers, retryStaleSocket: replayable });
  }

  private attempt(
    req: Request,
    res: Response,
    target: ForwardRequest,
    call: { path: string; headers: http.OutgoingHttpHeaders; retryStaleSocket: boolean },
  ): Promise<number> {
    const { sidecarHost, sidecarPort, upstreamTimeoutMs } = this.options;
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const fail = (error: AppError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        upstream.destroy();
        reject(error);
      };
      const upstream = http.request({
        host: sidecarHost,
        port: sidecarPort,
        method: req.method,
        path: call.path,
        headers: call.headers,
        agent: this.agent,
      });
      const timer = setTimeout(() => {
        fail(
          new AppError(504, {
            code: 'upstream-timeout',
            detail: `${target.appId} did not answer within ${upstreamTimeoutMs} ms`,
          }),
        );
      }, upstreamTimeoutMs);
      // The client went away: stop the upstream work too.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });

      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        if (call.retryStaleSocket && upstream.reusedSocket && err.code === 'ECONNRESET') {
          settled = true;
          clearTimeout(timer);
          this.attempt(req, res, target, { ...call, retryStaleSocket: false }).then(resolve, reject);
          return;
        }
        fail(
          new AppError(503, {
            code: 'sidecar-unreachable',
            detail: `the gateway's Dapr sidecar could not be reached to call ${target.appId}`,
            cause: err,
          }),
        );
      });

      upstream.on('response', (answer) => {
        if (settled) {
          answer.resume();
          return;
        }
        clearTimeout(timer);
        if (mayBeDaprError(answer)) {
          readAll(answer)
            .then((body) => {
              if (settled) return;
              const mapped =
                body.length > MAX_DAPR_ERROR_BYTES
                  ? undefined
                  : daprFailure(answer.statusCode ?? 500, body, target.appId);
              if (mapped) {
                this.options.logger.warn(
                  { appId: target.appId, dapr: body.toString('utf8').slice(0, 500) },
                  'service invocation failed in Dapr',
                );
                fail(mapped);
                return;
              }
              settled = true;
              copyResponseHead(answer, res);
              res.end(body);
              resolve(answer.statusCode ?? 500);
            })
            .catch((err: unknown) =>
              fail(
                new AppError(502, {
                  code: 'bad-upstream-response',
                  detail: `${target.appId} sent an unreadable answer`,
                  cause: err,
                }),
              ),
            );
          return;
        }
        settled = true;
        copyResponseHead(answer, res);
        pipeline(answer, res, (err) => {
          // The client disconnecting mid-stream is normal for SSE; nothing to answer anymore.
          if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE')
            this.options.logger.debug({ err }, 'response stream ended early');
        });
        resolve(answer.statusCode ?? 500);
      });

      if (target.body !== undefined) {
        upstream.end(target.body);
      } else if (!hasBody(req)) {
        upstream.end();
      } else {
        // Not stream.pipeline: on an upstream failure it would destroy `req`, and with it the
        // client's socket, before we could answer 503.
        const limit = new ByteLimit(this.options.maxBodyBytes);
        limit.on('error', (err) => {
          req.unpipe(limit);
          fail(
            err instanceof AppError
              ? err
              : new AppError(400, { code: 'body-unreadable', detail: 'request body could not be read', cause: err }),
          );
        });
        req.on('error', (err) =>
          fail(new AppError(400, { code: 'body-unreadable', detail: 'request body could not be read', cause: err })),
        );
        req.pipe(limit).pipe(upstream);
      }
    });
  }

  private upstreamHeaders(req: Request, target: ForwardRequest): http.OutgoingHttpHeaders {
    const dropped = connectionTokens(req.headers);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name) || isReservedHeader(name)) continue;
      headers[name] = value;
    }
    if (typeof headers.traceparent === 'string' && !TRACEPARENT.test(headers.traceparent)) {
      delete headers.traceparent;
      delete headers.tracestate;
    }
    if (target.body !== undefined) {
      headers['content-length'] = target.body.length;
    }
    headers['x-request-id'] = String(req.id);
    headers['x-forwarded-for'] = req.ip ?? req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = req.protocol;
    if (target.user) {
      headers[USER_ID_HEADER] = target.user.id;
      headers[USER_ROLES_HEADER] = target.user.roles.join(',');
    }
    if (this.options.daprApiToken) headers['dapr-api-token'] = this.options.daprApiToken;
    return headers;
  }

  close(): void {
    this.agent.destroy();
  }
}

export function hasBody(req: http.IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** Counts bytes on their way through and fails with 413 past the limit (chunked uploads have no Content-Length to check). */
class ByteLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(bodyTooLarge(this.limit));
      return;
    }
    callback(null, chunk);
  }
}

export function bodyTooLarge(limit: number): AppError {
  // Connection: close, so the client stops sending the rest of a body nobody will read.
  return new AppError(413, {
    code: 'body-too-large',
    detail: `request body exceeds the limit of ${limit} bytes`,
    headers: { connection: 'close' },
  });
}

/** Dapr answers its own failures with 500 (transport, timeout, circuit open) or 403 (access control), as JSON. */
function mayBeDaprError(answer: http.IncomingMessage): boolean {
  const type = String(answer.headers['content-type'] ?? '');
  return (answer.statusCode === 500 || answer.statusCode === 403) && /^application\/json\b/i.test(type);
}

function daprFailure(status: number, body: Buffer, appId: string): AppError | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { errorCode, message } = parsed as { errorCode?: unknown; message?: unknown };
  if (errorCode !== 'ERR_DIRECT_INVOKE') return undefined;
  const text = typeof message === 'string' ? message : '';
  if (status === 403) {
    return new AppError(502, {
      code: 'upstream-access-denied',
      detail: `Dapr access control does not let the gateway call ${appId}`,
    });
  }
  if (/deadline exceeded|timeout|timed out/i.test(text)) {
    return new AppError(504, { code: 'upstream-timeout', detail: `${appId} did not answer in time` });
  }
  if (/circuit breaker/i.test(text)) {
    return new AppError(503, {
      code: 'upstream-unavailable',
      detail: `${appId} is failing; calls are paused briefly (circuit breaker open)`,
      headers: { 'retry-after': '5' },
    });
  }
  return new AppError(503, { code: 'upstream-unavailable', detail: `${appId} is unavailable` });
}

function readAll(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function copyResponseHead(answer: http.IncomingMessage, res: Response): void {
  const dropped = connectionTokens(answer.headers);
  res.status(answer.statusCode ?? 502);
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name) || name === 'x-powered-by') continue;
    res.setHeader(name, value);
  }
}
