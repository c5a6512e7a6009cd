/**
 * The HTTP service factory. `createHttpApp` builds the Express app (probes, drain guard, body
 * parsing, errors) without listening, so tests use supertest or port 0; `listen` serves it with
 * the platform's hardened server. ServiceRuntime (runtime.ts) puts both together for a service.
 */
import { randomUUID } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Server } from 'node:http';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { sameSecret } from './caller';
import { withTimeout } from './timeout';
import { AppError, notFoundHandler, problemHandler, sendProblem } from './errors';
import { createPlatformServer } from './server';
import { GracefulShutdown } from './shutdown';
import { recordHttpRequest, routeTemplate } from './telemetry/metrics';

declare module 'node:http' {
  interface IncomingMessage {
    /** the request id (`x-request-id` as sent when well-formed, else a new UUID), set before any route */
    id: string;
  }
}

export type ReadinessCheck = () => Promise<void>;

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  /** e.g. '100kb'; larger bodies get 413 */
  jsonBodyLimit?: string;
  /** named checks for /readyz (sidecar, database, …); each throws when not ready */
  readiness?: Record<string, ReadinessCheck>;
  /** mount the service's routes */
  routes: (app: Express) => void;
  /** middleware that must run before body parsing (e.g. the gateway's proxy) */
  beforeBodyParsing?: (app: Express) => void;
  /** set while draining: new requests on kept-alive connections get 503 + Connection: close */
  shutdown?: GracefulShutdown;
  /**
   * the app token (APP_API_TOKEN) its sidecar presents as `dapr-api-token`: when set, every
   * request but the probes must carry it, else 401 (a forged `dapr-caller-app-id` is refused)
   */
  sidecarToken?: string;
}

const READINESS_TIMEOUT_MS = 2_000;

export function createHttpApp(options: HttpAppOptions): Express {
  const { logger, service } = options;
  const app = express();
  app.disable('x-powered-by');
  // One spelling per route, as the gateway's route table matches it: `/Login` and `/login/` are
  // not `/login`, so no limit or rule the gateway applies to a path can be bypassed by respelling it.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.set('trust proxy', 'loopback');
  app.use(requestLog(logger));
  app.use(securityHeaders());
  if (options.shutdown) app.use(drainGuard(options.shutdown));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runReadiness(options.readiness ?? {});
    const ready = Object.values(checks).every((c) => c.status === 'ok') && !options.shutdown?.draining;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', service, checks });
  });

  // After the probes (the kubelet and the launcher call them without a token), before everything else.
  if (options.sidecarToken !== undefined) app.use(sidecarOnly(options.sidecarToken));
  options.beforeBodyParsing?.(app);
  app.use(jsonBody(options.jsonBodyLimit ?? '100kb'));
  options.routes(app);
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}

const PROBES = new Set(['/healthz', '/readyz']);

/**
 * A route template for `http.route` when the request was not answered by an Express route
 * (the gateway's proxy resolves its own table): never a raw path, which would be unbounded.
 */
export function setHttpRoute(res: Response, template: string): void {
  (res.locals as { httpRoute?: string }).httpRoute = template;
}

/**
 * A logger whose lines carry the request id, for the few lines a handler writes about its request.
 * Made when called (a pino child): call it where a line is written, not on every request.
 */
export function requestLogger(req: { id: string }, logger: Logger): Logger {
  return logger.child({ reqId: req.id });
}

const REQUEST_ID = /^[\w.-]{1,128}$/;

/**
 * helmet()'s headers, taken from helmet once: with the default policy every header it sets is
 * the same on every answer (no nonce, nothing read from the request), so one middleware sets
 * them from a list instead of helmet's chain of 13 middlewares on every request (decision
 * 1040). Its one removal, `X-Powered-By`, is never set: the app disables it.
 */
function securityHeaders(): RequestHandler {
  const headers: Array<readonly [string, string]> = [];
  let finished = false;
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`helmet set ${name} to a value that is not a string`);
      headers.push([name, value]);
    },
    removeHeader() {},
  };
  helmet()({} as Request, recorder as unknown as Response, (err?: unknown) => {
    if (err !== undefined) throw err;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be taken once');
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/**
 * The one request log line and `http.server.request.duration`, both once the answer is sent (or
 * the client went away); probes are left out of both. The line holds only what an operator needs
 * (and chaos R6 reads): request id, method, route template (the path without its query only when
 * no route matched), status, duration in ms, trace id. No headers and no query, so there is
 * nothing to redact, and it goes through a child logger made
 * once without redaction: pino's fast path (no per-request child logger, no serializers). Every
 * other line keeps the process logger's redaction (REDACTED_PATHS).
 */
function requestLog(logger: Logger): RequestHandler {
  // Safe without redaction: every field below is a number, a template, a method, a checked id or
  // a path without its query (our paths carry ids, never credentials).
  const lineLogger = logger.child({}, { redact: [] });
  // Express paths to their templates: a route's template is made once, not on every request.
  const templates = new Map<string, string>();
  const templateOf = (expressPath: string) => {
    let template = templates.get(expressPath);
    if (template === undefined) {
      template = routeTemplate(expressPath);
      templates.set(expressPath, template);
    }
    return template;
  };
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader('x-request-id', id);
    if (PROBES.has(req.path)) {
      next();
      return;
    }
    const started = performance.now();
    // Taken now, while the request's span (if tracing is on) is the active one.
    const span = trace.getActiveSpan()?.spanContext();
    const traceId = span && isSpanContextValid(span) ? span.traceId : undefined;
    // 'close' comes once for every response, after 'finish' when the answer was sent whole: one
    // listener, and `writableFinished` tells a sent answer from a client that went away.
    res.once('close', () => {
      const ms = performance.now() - started;
      const explicit = (res.locals as { httpRoute?: string }).httpRoute;
      const routePath: unknown = (req as { route?: { path?: unknown } }).route?.path;
      const route = explicit ?? (typeof routePath === 'string' ? templateOf(`${req.baseUrl}${routePath}`) : undefined);
      const status = res.statusCode;
      recordHttpRequest({ method: req.method, route, status, seconds: ms / 1000 });
      const line = {
        reqId: id,
        method: req.method,
        route,
        // Unmatched (a 404, a refused method): the path, without its query (which may hold a token).
        path: route === undefined ? req.path : undefined,
        status,
        responseTime: Math.round(ms * 10) / 10,
        trace_id: traceId,
      };
      if (!res.writableFinished) lineLogger.warn(line, 'request aborted');
      else if (status >= 500) lineLogger.error(line, 'request completed');
      else lineLogger.info(line, 'request completed');
    });
    next();
  };
}

function isJson(req: { headers: Record<string, unknown> }): boolean {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  return /^application\/([\w.+-]*\+)?json\b/.test(type);
}

/**
 * A request with a body must say it is JSON (or a JSON variant), else 415; its body is parsed
 * into `req.body`. A request with neither `Content-Length` nor `Transfer-Encoding` (a GET) passes
 * straight on: the parser would leave `req.body` undefined for it all the same.
 */
function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit, strict: true, type: isJson });
  return (req, res, next) => {
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      next();
      return;
    }
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !isJson(req)) {
      sendProblem(
        res,
        new AppError(415, {
          detail: `expected application/json, got ${req.headers['content-type'] ?? 'no content type'}`,
        }),
      );
      return;
    }
    parse(req, res, next);
  };
}

function sidecarOnly(token: string): RequestHandler {
  return (req, res, next) => {
    if (sameSecret(req.header('dapr-api-token') ?? '', token)) {
      next();
      return;
    }
    sendProblem(res, AppError.unauthorized('only this service’s Dapr sidecar may call it (app API token)'));
  };
}

function drainGuard(shutdown: GracefulShutdown): RequestHandler {
  return (_req, res, next) => {
    if (!shutdown.draining) {
      next();
      return;
    }
    res.setHeader('connection', 'close');
    sendProblem(res, AppError.unavailable('the service is shutting down'));
  };
}

export interface CheckResult {
  status: 'ok' | 'failing';
  error?: string;
}

async function runReadiness(checks: Record<string, ReadinessCheck>): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), READINESS_TIMEOUT_MS);
        return [name, { status: 'ok' }] as const;
      } catch (err) {
        const failing: CheckResult = { status: 'failing', error: err instanceof Error ? err.message : String(err) };
        return [name, failing] as const;
      }
    }),
  );
  return Object.fromEntries(entries) as Record<string, CheckResult>;
}

/** Listens on `port` (0 = any) with the platform's hardened server, and returns once accepting connections. */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createPlatformServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * A service marks an answer the gateway may keep and serve to every caller with this header
 * (`max-age=<seconds>`, the longest the gateway may keep it), on operations the registry declares
 * `gatewayCache` (decision 1000). The gateway never passes it on to clients.
 */
export const SHARED_CACHE_HEADER = 'x-quizmesh-shared-cache';

/**
 * RFC 9110 §13.1.2: does If-None-Match name `etag` (weak comparison) or `*`? Not Express's
 * `req.fresh`: that is a cache's rule and answers no to any request with `Cache-Control:
 * no-cache`, which fetch() adds to every request carrying If-None-Match.
 */
export function ifNoneMatchHas(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}
