/**
 * CORS for browser clients on other origins: only the origins in CORS_ALLOWED_ORIGINS get
 * CORS headers; preflights are answered here (204) and never reach the services or the
 * token check. Credentials (cookies) are off unless configured: the API uses bearer tokens.
 */
import cors from 'cors';
import type { RequestHandler } from 'express';
import type { GatewayConfig } from './config';

export function corsMiddleware(
  config: Pick<GatewayConfig, 'CORS_ALLOWED_ORIGINS' | 'CORS_ALLOW_CREDENTIALS' | 'CORS_MAX_AGE_S'>,
): RequestHandler {
  const allowed = new Set(config.CORS_ALLOWED_ORIGINS);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'if-match',
      'if-none-match',
      'last-event-id',
      'traceparent',
      'tracestate',
      'x-request-id',
    ],
    exposedHeaders: ['etag', 'location', 'retry-after', 'www-authenticate', 'x-request-id'],
    credentials: config.CORS_ALLOW_CREDENTIALS,
    maxAge: config.CORS_MAX_AGE_S,
  });
}
