/**
 * The one error type of the platform and its RFC 9457 problem+json rendering.
 * Throw `AppError` (or let a ZodError bubble) from any handler; `problemHandler` answers.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from 'pino';

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `body.email` or `query.limit` */
  field: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://quizmesh.dev/problems/';

export interface AppErrorOptions {
  detail?: string;
  /** short machine-readable slug, becomes the problem `type` URI */
  code?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** extra problem members, e.g. `{ retryAfterSeconds: 30 }` */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, options: AppErrorOptions = {}) {
    super(options.detail ?? TITLES[status] ?? `HTTP ${status}`, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = options.code ?? slug(TITLES[status] ?? 'error');
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  static badRequest(detail: string, errors?: FieldError[]) {
    return new AppError(400, { detail, errors, code: errors ? 'validation' : 'bad-request' });
  }
  static unauthorized(detail = 'authentication required') {
    return new AppError(401, { detail, headers: { 'www-authenticate': 'Bearer' } });
  }
  static forbidden(detail = 'not allowed') {
    return new AppError(403, { detail });
  }
  static notFound(detail = 'not found') {
    return new AppError(404, { detail });
  }
  static conflict(detail: string) {
    return new AppError(409, { detail });
  }
  static unavailable(detail: string) {
    return new AppError(503, { detail });
  }

  /** A validation failure of `where` (body, query, params, headers) from a ZodError. */
  static fromZod(error: ZodError, where: string): AppError {
    const errors = error.issues.map((issue) => ({
      field: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    const first = errors[0];
    return new AppError(400, {
      code: 'validation',
      detail: first ? `${first.field}: ${first.message}` : `invalid ${where}`,
      errors,
    });
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      ...this.extensions,
      type: TYPE_BASE + this.code,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(instance !== undefined ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

function slug(text: string) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** Prisma's "timed out fetching a connection from the pool" (P2024) and "unable to start a transaction in time" (P2028). */
const OVERLOADED_PRISMA_CODES = new Set(['P2024', 'P2028']);

function isOverloadedDatabase(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  return name === 'PrismaClientKnownRequestError' && typeof code === 'string' && OVERLOADED_PRISMA_CODES.has(code);
}

/**
 * Database errors a request's own input causes (a value PostgreSQL cannot store or parse, a row
 * that is not there) are the client's fault: 400/404/409, never a 500 that would also count
 * against the service's circuit breaker. Prisma reports them with its own codes, and raw
 * queries with the PostgreSQL SQLSTATE of the driver adapter's error.
 */
const INPUT_PRISMA_CODES: Record<string, { status: number; code: string; detail: string }> = {
  P2000: { status: 400, code: 'value-too-long', detail: 'a value is too long' },
  P2007: { status: 400, code: 'invalid-value', detail: 'a value is not valid for its type' },
  P2020: { status: 400, code: 'value-out-of-range', detail: 'a value is out of range' },
  P2023: { status: 400, code: 'invalid-value', detail: 'a value is not valid for its type' },
  P2025: { status: 404, code: 'not-found', detail: 'not found' },
  P2002: { status: 409, code: 'conflict', detail: 'a record with these values already exists' },
};

/** The SQLSTATE behind a Prisma error that came through the PostgreSQL driver adapter, if any. */
function sqlStateOf(err: { meta?: unknown; cause?: unknown }): string | undefined {
  const adapterError = (err.meta as { driverAdapterError?: { cause?: unknown } } | undefined)?.driverAdapterError;
  const cause = (adapterError?.cause ?? err.cause) as { originalCode?: unknown; code?: unknown } | undefined;
  const code = cause?.originalCode ?? cause?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** An AppError for a database error caused by the request's input, or undefined for any other error. */
export function fromDatabaseError(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; code?: unknown; meta?: unknown; cause?: unknown };
  if (e.name === 'PrismaClientValidationError') {
    // Prisma refused the query before sending it (e.g. an invalid Date reached a filter).
    return new AppError(400, { code: 'invalid-value', detail: 'a value is not valid for its type', cause: err });
  }
  if (e.name !== 'PrismaClientKnownRequestError' && e.name !== 'DriverAdapterError') return undefined;
  const known = typeof e.code === 'string' ? INPUT_PRISMA_CODES[e.code] : undefined;
  if (known) return new AppError(known.status, { code: known.code, detail: known.detail, cause: err });
  const sqlState = sqlStateOf(e);
  // Class 22 "data exception": invalid text representation (22P02), datetime format (22007) or
  // overflow (22008), numeric out of range (22003), bad UTF-8 or NUL (22021), bad regex (2201B)…
  if (sqlState?.startsWith('22')) {
    return new AppError(400, { code: 'invalid-value', detail: 'a value is not valid for its type', cause: err });
  }
  if (sqlState === '23505') {
    return new AppError(409, { code: 'conflict', detail: 'a record with these values already exists', cause: err });
  }
  return undefined;
}

/** Maps what Express' own middleware throws (body-parser) to AppError; anything else is a 500. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return AppError.fromZod(err, 'body');
  // Express' router throws this (status 400, not marked `expose`) for a path parameter such as `%FF`.
  if (err instanceof URIError)
    return AppError.badRequest('path: a parameter is not valid percent-encoded UTF-8', [
      { field: 'path', message: 'not valid percent-encoded UTF-8' },
    ]);
  if (isOverloadedDatabase(err)) {
    // The pool or the transaction manager could not serve in time: the request is fine, the
    // service is saturated. 503 + Retry-After tells clients (and Dapr retries) to come back.
    return new AppError(503, {
      code: 'overloaded',
      detail: 'the service is busy; retry shortly',
      headers: { 'retry-after': '1' },
      cause: err,
    });
  }
  const fromDatabase = fromDatabaseError(err);
  if (fromDatabase) return fromDatabase;
  if (typeof err === 'object' && err !== null) {
    const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown; message?: unknown };
    const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
    if (e.type === 'entity.parse.failed')
      return new AppError(400, { code: 'malformed-json', detail: 'request body is not valid JSON', cause: err });
    if (e.type === 'entity.too.large') return new AppError(413, { detail: 'request body is too large', cause: err });
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return new AppError(415, { detail: String(e.message), cause: err });
    // Other client errors from Express/body-parser/router (e.g. a path parameter that is not
    // valid percent-encoding): keep the status; the message only when marked safe to show.
    if (status >= 400 && status < 500)
      return new AppError(status, {
        detail:
          e.expose === true ? String(e.message) : `the request could not be processed (${TITLES[status] ?? status})`,
        cause: err,
      });
  }
  return new AppError(500, { detail: 'an unexpected error occurred', code: 'internal', cause: err });
}

export function sendProblem(res: Parameters<RequestHandler>[1], error: AppError, instance?: string) {
  res.status(error.status);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(error.toProblem(instance)));
}

/** The one error handler: problem+json, 5xx logged with the cause, never leaking internals. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toAppError(err);
    // reqId joins it to the request's own log line (http.ts).
    if (error.status >= 500) logger.error({ reqId: req.id, err: error.cause ?? err }, 'request failed');
    sendProblem(res, error, req.originalUrl.split('?')[0]);
  };
}

/** 404 for any route nobody handled. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(AppError.notFound(`no route for ${req.method} ${req.path}`));
};
