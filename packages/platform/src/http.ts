/// <reference types="pino-http" preserve="true" />
// ^ kept in the emitted .d.ts so services compiled against dist/ see pino-http's `req.id`/`req.log` typing.
/**
 * The HTTP service factory. `createHttpApp` builds the Express app (probes, drain guard, body
 * parsing, errors) without listening, so tests use supertest or port 0; `listen` serves it with
 * the platform's hardened server. ServiceRuntime (runtime.ts) puts both together for a service.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type Express, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { sameSecret } from './caller';
import { withTimeout } from './timeout';
import { AppError, notFoundHandler, problemHandler, sendProblem } from './errors';
import { createPlatformServer } from './server';
import { GracefulShutdown } from './shutdown';
import { recordHttpRequest, routeTemplate } from './telemetry/metrics';

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
  app.use(requestDuration);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customAttributeKeys: { reqId: 'reqId' },
      // Bind only the request id to the per-request logger, so every line of a request carries it.
      quietReqLogger: true,
      // Probes would drown the log.
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
      serializers: {
        req: (req: { id: unknown; method: unknown; url: unknown }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
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
  app.use(jsonOnly, express.json({ limit: options.jsonBodyLimit ?? '100kb', strict: true, type: isJson }));
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

/** Records `http.server.request.duration` once the answer is sent (or the client went away). Probes are left out. */
const requestDuration: RequestHandler = (req, res, next) => {
  if (PROBES.has(req.path)) {
    next();
    return;
  }
  const started = performance.now();
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    const explicit = (res.locals as { httpRoute?: string }).httpRoute;
    const routePath: unknown = (req as { route?: { path?: unknown } }).route?.path;
    const route = explicit ?? (typeof routePath === 'string' ? routeTemplate(`${req.baseUrl}${routePath}`) : undefined);
    recordHttpRequest({
      method: req.method,
      route,
      status: res.statusCode,
      seconds: (performance.now() - started) / 1000,
    });
  };
  res.once('finish', record);
  res.once('close', record);
  next();
};

function isJson(req: { headers: Record<string, unknown> }): boolean {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  return /^application\/([\w.+-]*\+)?json\b/.test(type);
}

/** A request with a body must say it is JSON (or a JSON variant); anything else is 415. */
const jsonOnly: RequestHandler = (req, res, next) => {
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
  next();
};

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
