/**
 * The gateway's forwarding path: an HTTP client to its own sidecar's service invocation API
 * (`/v1.0/invoke/{app}/method/{path}`), keeping status, headers and bodies (docs/decisions/0004).
 * Bodies stream both ways (no buffering of uploads or SSE), bounded by the body limit on the way
 * in and by UPSTREAM_TIMEOUT_MS from the end of the upload until the answer's headers arrive.
 *
 * Every forwarded request is re-framed by undici (docs/decisions/0720): a body goes out with the
 * Content-Length it was checked against or chunked, never as raw bytes a sidecar could read as
 * a second request, and a connection that sees anything unexpected is destroyed, not reused for
 * another user. Methods without a body semantics never carry one (the middleware refuses them).
 *
 * Each app has a circuit breaker here (opossum) that counts only the callee's failures: 5xx
 * answers, Dapr's own failures, timeouts, refused connections. A client's 4xx, its bad bodies
 * and its disconnects never count, so no client can open it (docs/decisions/0720).
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type http from 'node:http';
import type { Request, Response } from 'express';
import { trace } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import {
  AppError,
  SHARED_CACHE_HEADER,
  TRACEPARENT,
  USER_ID_HEADER,
  USER_ROLES_HEADER,
  ifNoneMatchHas,
  type CallerUser,
} from '@quizmesh/platform';
import { recordGatewayRejection } from '@quizmesh/platform/telemetry';

export interface BreakerOptions {
  errorPercent: number;
  minCalls: number;
  windowMs: number;
  openMs: number;
}

export interface SidecarProxyOptions {
  sidecarHost: string;
  sidecarPort: number;
  /** the sidecar API token (DAPR_API_TOKEN), when the sidecar requires one */
  daprApiToken: string | undefined;
  upstreamTimeoutMs: number;
  maxBodyBytes: number;
  breaker: BreakerOptions;
  logger: Logger;
}

export interface ForwardRequest {
  appId: string;
  user: CallerUser | undefined;
  /** an already-read body (login, register); otherwise the request streams */
  body?: Buffer;
  /** the service's path when it differs from the public one; the query string is kept */
  upstreamPath?: string;
  /**
   * The gateway may keep the answer (decision 1000). The service is asked without the client's
   * If-None-Match (a 304 could not be kept); an answer `accepts` takes is read whole, sent, then
   * offered to `store`; a 200 whose ETag the client named becomes a 304 here.
   */
  keep?: {
    ifNoneMatch: string | undefined;
    accepts(status: number, headers: Headers): boolean;
    store(headers: Headers, body: Buffer): void;
  };
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

/**
 * Not copied from the client's request either: framing (`content-length` is set again from the
 * body actually sent, undici chooses chunked otherwise) and `expect` (Node's server already
 * answered 100-continue to the client).
 */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'content-length', 'expect']);

/** Answer headers never passed to the client: Express's banner, and the service's shared-cache mark (decision 1000). */
const NOT_RELAYED = new Set(['x-powered-by', SHARED_CACHE_HEADER]);

/** Methods whose requests have no defined body semantics (RFC 9110 §9.3): a body on them is refused. */
export const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** Headers only the platform may set: a client must never be able to claim a user or a Dapr identity. */
export function isReservedHeader(name: string): boolean {
  return (
    name.startsWith('x-quizmesh-') ||
    name.startsWith('dapr-') ||
    name === 'forwarded' ||
    name.startsWith('x-forwarded-')
  );
}

/** Dapr error bodies are small JSON documents; anything bigger is an app's own answer. */
const MAX_DAPR_ERROR_BYTES = 16 * 1024;

export type Headers = Record<string, string | string[] | undefined>;

const NO_TOKENS: ReadonlySet<string> = new Set();

/** The header names a `Connection` header lists (hop-by-hop too); most requests and answers have none. */
function connectionTokens(headers: Headers): ReadonlySet<string> {
  if (headers.connection === undefined) return NO_TOKENS;
  return new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

/** The callee answered 5xx: already passed to the client, but a failure for the breaker. */
class CalleeAnswered5xx extends Error {
  constructor(readonly status: number) {
    super(`callee answered ${status}`);
  }
}

/** The client went away before the answer: nothing to send, and not the callee's fault. */
class ClientGone extends Error {}

/** What opens a breaker: the callee's failures only (5xx, Dapr failures, timeouts, refused connections). */
export function isCalleeFailure(err: unknown): boolean {
  if (err instanceof CalleeAnswered5xx) return true;
  return err instanceof AppError && err.status >= 500;
}

type Breaker = CircuitBreaker<[() => Promise<number>], number>;

export class SidecarProxy {
  private readonly pool: Pool;
  private readonly breakers = new Map<string, Breaker>();

  constructor(private readonly options: SidecarProxyOptions) {
    this.pool = new Pool(`http://${options.sidecarHost}:${options.sidecarPort}`, {
      connections: 512,
      // One exchange per connection at a time: no request ever waits behind another user's on a socket.
      pipelining: 1,
      // Our own timer bounds the wait for the answer's headers; SSE bodies stay open as long as the client reads.
      headersTimeout: 0,
      bodyTimeout: 0,
      // Below the sidecar's own idle timeout (30 s locally, 5 s+ for daprd), so we close first.
      keepAliveTimeout: 4_000,
    });
  }

  /**
   * Forwards `req` to `target.appId` and streams the answer into `res`. Resolves with the
   * upstream status once the answer is being sent; rejects with an AppError when nothing
   * was sent yet (400, 413, 502, 503, 504), so the caller's error handler answers.
   */
  async forward(req: Request, res: Response, target: ForwardRequest): Promise<number> {
    const headers = this.upstreamHeaders(req, target);
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const method = target.upstreamPath !== undefined ? target.upstreamPath + query : req.originalUrl;
    const path = `/v1.0/invoke/${encodeURIComponent(target.appId)}/method${method}`;
    try {
      return await this.breakerFor(target.appId).fire(() => this.attempt(req, res, target, path, headers));
    } catch (err) {
      if (err instanceof CalleeAnswered5xx) return err.status;
      if ((err as { code?: unknown }).code === 'EOPENBREAKER') {
        recordGatewayRejection('circuit_open');
        throw new AppError(503, {
          code: 'upstream-unavailable',
          detail: `${target.appId} is failing; calls are paused briefly (circuit breaker open)`,
          headers: { 'retry-after': String(Math.ceil(this.options.breaker.openMs / 1000)) },
        });
      }
      if (err instanceof ClientGone) return 499;
      throw err;
    }
  }

  /** Whether `appId`'s breaker is open now (tests, /api/v1/status). */
  isOpen(appId: string): boolean {
    return this.breakers.get(appId)?.opened ?? false;
  }

  private breakerFor(appId: string): Breaker {
    let breaker = this.breakers.get(appId);
    if (breaker) return breaker;
    const { errorPercent, minCalls, windowMs, openMs } = this.options.breaker;
    breaker = new CircuitBreaker(
      async (run: () => Promise<number>) => {
        const status = await run();
        if (status >= 500) throw new CalleeAnswered5xx(status);
        return status;
      },
      {
        name: appId,
        timeout: false,
        errorThresholdPercentage: errorPercent,
        volumeThreshold: minCalls,
        rollingCountTimeout: windowMs,
        resetTimeout: openMs,
        // Not the callee's failure (the client's 4xx, bad body, disconnect): counted as neither.
        errorFilter: (err: unknown) => !isCalleeFailure(err),
      },
    );
    breaker.on('open', () => this.options.logger.warn({ appId }, 'circuit breaker opened'));
    breaker.on('close', () => this.options.logger.info({ appId }, 'circuit breaker closed'));
    this.breakers.set(appId, breaker);
    return breaker;
  }

  private async attempt(
    req: Request,
    res: Response,
    target: ForwardRequest,
    path: string,
    headers: Record<string, string | string[]>,
  ): Promise<number> {
    const { upstreamTimeoutMs, maxBodyBytes } = this.options;
    const controller = new AbortController();
    let failure: Error | undefined;
    const abort = (error: Error) => {
      failure ??= error;
      controller.abort(error);
    };
    let timer: NodeJS.Timeout | undefined;
    // The callee's clock starts once the whole request is sent: a slow upload is the client's time, not the service's.
    const startClock = () => {
      timer = setTimeout(
        () =>
          abort(
            new AppError(504, {
              code: 'upstream-timeout',
              detail: `${target.appId} did not answer within ${upstreamTimeoutMs} ms`,
            }),
          ),
        upstreamTimeoutMs,
      );
    };
    const onClose = () => {
      if (!res.writableFinished) abort(new ClientGone());
    };
    res.on('close', onClose);

    let body: Buffer | Readable | undefined;
    if (target.body !== undefined) {
      body = target.body;
      headers['content-length'] = String(target.body.length);
      startClock();
    } else if (hasBody(req)) {
      const declared = req.headers['content-length'];
      // Node's parser has checked the declared length against the framing; undici sends exactly that many bytes.
      if (declared !== undefined && req.headers['transfer-encoding'] === undefined)
        headers['content-length'] = declared;
      const limit = new ByteLimit(maxBodyBytes);
      limit.on('error', (err) => {
        req.unpipe(limit);
        abort(err instanceof AppError ? err : bodyUnreadable(err));
      });
      limit.on('end', startClock);
      req.on('error', (err) => abort(bodyUnreadable(err)));
      req.pipe(limit);
      body = limit;
    } else {
      startClock();
    }

    try {
      const answer = await this.pool.request({
        method: req.method as 'GET',
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: controller.signal,
      });
      clearTimeout(timer);
      const status = answer.statusCode;
      if (failure) {
        answer.body.destroy();
        throw failure;
      }
      if (mayBeDaprError(status, answer.headers)) {
        const text = await readAll(answer.body).catch((err: unknown) => {
          throw failure ?? unreadableAnswer(target.appId, err);
        });
        const mapped = text.length > MAX_DAPR_ERROR_BYTES ? undefined : daprFailure(status, text, target.appId);
        if (mapped) {
          this.options.logger.warn(
            { appId: target.appId, dapr: text.toString('utf8').slice(0, 500) },
            'service invocation failed in Dapr',
          );
          throw mapped;
        }
        copyResponseHead(status, answer.headers, res);
        res.end(text);
        return status;
      }
      const keep = target.keep;
      if (keep !== undefined && status === 200) {
        const kept = keep.accepts(status, answer.headers);
        const etag = answer.headers.etag;
        const matched = typeof etag === 'string' && ifNoneMatchHas(keep.ifNoneMatch, etag);
        if (kept || matched) {
          const body = await readAll(answer.body).catch((err: unknown) => {
            throw failure ?? unreadableAnswer(target.appId, err);
          });
          copyResponseHead(status, answer.headers, res);
          if (matched) {
            for (const name of ['content-length', 'content-type']) res.removeHeader(name);
            res.status(304).end();
          } else {
            res.end(body);
          }
          if (kept) keep.store(answer.headers, body);
          return matched ? 304 : status;
        }
      }
      copyResponseHead(status, answer.headers, res);
      this.relay(answer.body, res);
      return status;
    } catch (err) {
      if (failure) throw failure;
      if (err instanceof AppError) throw err;
      throw new AppError(503, {
        code: 'sidecar-unreachable',
        detail: `the gateway's Dapr sidecar could not be reached to call ${target.appId}`,
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  }

  /**
   * Streams the answer's body to the client with backpressure; either side ending early ends
   * the other. Not `stream.pipeline`: it aborts an AbortController of its own when it finishes,
   * and the AbortError (a DOMException with a stack trace) was a few percent of the gateway's CPU
   * per proxied request (decision 0972).
   */
  private relay(body: Readable, res: Response): void {
    body.on('error', (err) => {
      this.options.logger.debug({ err }, 'upstream answer ended early');
      res.destroy(err);
    });
    // The client disconnecting mid-stream is normal for SSE: stop reading the answer, which releases its connection.
    res.on('error', () => body.destroy());
    res.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(res);
  }

  private upstreamHeaders(req: Request, target: ForwardRequest): Record<string, string | string[]> {
    const dropped = connectionTokens(req.headers);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || NOT_FORWARDED.has(name) || dropped.has(name) || isReservedHeader(name)) continue;
      if (target.keep !== undefined && name === 'if-none-match') continue;
      headers[name] = value;
    }
    // With tracing on, undici's instrumentation adds the gateway's own span (a child of the
    // client's) as traceparent; the client's copy as well would make the header invalid.
    const traced = trace.getActiveSpan() !== undefined;
    if (traced || (typeof headers.traceparent === 'string' && !TRACEPARENT.test(headers.traceparent))) {
      delete headers.traceparent;
      delete headers.tracestate;
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

  async close(): Promise<void> {
    for (const breaker of this.breakers.values()) breaker.shutdown();
    await this.pool.destroy();
  }
}

function unreadableAnswer(appId: string, cause: unknown): AppError {
  return new AppError(502, { code: 'bad-upstream-response', detail: `${appId} sent an unreadable answer`, cause });
}

function bodyUnreadable(cause: unknown): AppError {
  return new AppError(400, { code: 'body-unreadable', detail: 'request body could not be read', cause });
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
function mayBeDaprError(status: number, headers: Headers): boolean {
  const type = String(headers['content-type'] ?? '');
  return (status === 500 || status === 403) && /^application\/json\b/i.test(type);
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
    // The sidecar's own breaker (the Resiliency policy) refused the call.
    recordGatewayRejection('circuit_open');
    return new AppError(503, {
      code: 'upstream-unavailable',
      detail: `${appId} is failing; calls are paused briefly (circuit breaker open)`,
      headers: { 'retry-after': '5' },
    });
  }
  return new AppError(503, { code: 'upstream-unavailable', detail: `${appId} is unavailable` });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function copyResponseHead(status: number, headers: Headers, res: Response): void {
  const dropped = connectionTokens(headers);
  res.status(status);
  for (const [name, value] of Object.entries(headers)) {
    // The shared-cache mark is for the gateway only (decision 1000).
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name) || NOT_RELAYED.has(name)) continue;
    res.setHeader(name, value);
  }
}
