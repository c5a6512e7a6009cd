import { z } from 'zod';
import { componentNameConfig, redisUrlConfig, serviceConfig, stateStoreNameConfig } from '@quizmesh/platform';
import { ROUTE_TABLE } from './routes';

/** Comma-separated app ids, or "none" (a gateway alone, as `npm start -- --only=` runs it). */
const appIdList = z
  .string()
  .regex(/^(none|[a-z][a-z0-9-]*(,[a-z][a-z0-9-]*)*)$/, 'expected comma-separated app ids or "none"')
  .transform((s) => (s === 'none' ? [] : s.split(',')));
const positiveInt = z.coerce.number().int().positive();
const seconds = (fallback: number) => positiveInt.max(86_400).default(fallback);
const milliseconds = (fallback: number) => positiveInt.max(600_000).default(fallback);

export const JWT_ALGORITHMS = ['ES256', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const gatewayConfigSchema = serviceConfig(
  {
    /** app ids the gateway routes to and reports on in /api/v1/status */
    UPSTREAM_APP_IDS: appIdList.default([...ROUTE_TABLE.appIds]),

    // --- authentication (JWTs issued by identity, keys from its JWKS) ---
    /** `iss` every token must carry */
    JWT_ISSUER: z.string().min(1).default('quizmesh-identity'),
    /** `aud` every token must carry (one of, when the token has several) */
    JWT_AUDIENCE: z.string().min(1).default('quizmesh-api'),
    /** signature algorithms accepted; HS* and `none` are never accepted (key-confusion attacks) */
    JWT_ALGORITHMS: z
      .string()
      .default('ES256')
      .transform((s) => s.split(',').map((a) => a.trim()))
      .pipe(z.array(z.enum(JWT_ALGORITHMS)).min(1)),
    /** tolerated clock skew for exp/nbf, seconds */
    JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
    /** app id that serves the JWKS, and its path there */
    JWKS_APP_ID: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .default('identity'),
    JWKS_PATH: z
      .string()
      .regex(/^[\w./-]+$/)
      .default('.well-known/jwks.json'),
    /** how long a fetched key set is used before it is fetched again */
    JWKS_CACHE_TTL_MS: milliseconds(300_000),
    /** at most one refetch per interval for tokens with an unknown `kid` (an attacker cannot make us hammer identity) */
    JWKS_REFETCH_INTERVAL_MS: milliseconds(5_000),
    /** Dapr state store that keeps each user's token "not before" (tokens.revoked) */
    STATE_STORE_NAME: stateStoreNameConfig(),
    /** how long a user's "not before" read from the state store is reused; events update it at once */
    REVOCATION_CACHE_TTL_MS: milliseconds(30_000),
    /** how long a "not before" is kept: longer than any access token lives (identity's ACCESS_TOKEN_TTL) */
    REVOCATION_RETENTION_S: seconds(86_400),

    // --- rate limits (per window; Redis when REDIS_URL is set, else this replica's memory) ---
    REDIS_URL: redisUrlConfig(),
    /** Redis key prefix, so several deployments (or test runs) can share one Redis */
    RATE_LIMIT_KEY_PREFIX: z.string().min(1).default('quizmesh:gateway:rl'),
    RATE_LIMIT_WINDOW_S: seconds(60),
    /** requests per window per client IP (every route) */
    RATE_LIMIT_PER_IP: positiveInt.default(600),
    /** requests per window per authenticated user */
    RATE_LIMIT_PER_USER: positiveInt.default(300),
    /** login attempts per window per client IP + email; a successful login resets the count */
    LOGIN_RATE_LIMIT: positiveInt.default(5),
    LOGIN_RATE_LIMIT_WINDOW_S: seconds(60),
    /** registrations per window per client IP */
    REGISTER_RATE_LIMIT: positiveInt.default(10),
    REGISTER_RATE_LIMIT_WINDOW_S: seconds(3600),
    /**
     * Express `trust proxy`: which hops may set X-Forwarded-For (e.g. `1` behind one ingress, or
     * CIDRs). None by default: a client-chosen X-Forwarded-For must not pick its own rate-limit
     * bucket. The chart sets the ingress controller's hop (docs/decisions/0730).
     */
    TRUST_PROXY: z.string().min(1).default('false'),

    // --- request limits ---
    /** largest accepted request header block in bytes (beyond: 431) */
    MAX_HEADER_BYTES: positiveInt.min(1024).max(1_048_576).default(16_384),
    /**
     * open connections one client address may hold (beyond: 429 and closed); 0 = no cap. Counted
     * on the TCP peer, so behind an ingress it caps the ingress' own connections: the chart turns it off there.
     */
    MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(256),
    /** time a client has to send a request's headers (beyond: 408); slow-header clients hold a connection at most this long */
    HEADERS_TIMEOUT_MS: milliseconds(20_000),
    /** time a client has to send a request body once its headers arrived (beyond: 408) */
    REQUEST_BODY_TIMEOUT_MS: milliseconds(10_000),
    /** upper bound on waiting for an upstream's response headers; Dapr's resiliency timeout should fire first */
    UPSTREAM_TIMEOUT_MS: milliseconds(10_000),

    // --- answers kept by the gateway (registry gatewayCache: the quiz player view; decision 1000) ---
    /** answers kept per replica; 0 = keep none (every request goes to the service) */
    RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
    /** bytes of kept bodies per replica, at most (a player view is a few KiB) */
    RESPONSE_CACHE_MAX_BYTES: positiveInt.max(1_073_741_824).default(16 * 1_048_576),
    /** longest an answer is kept, whatever the service allows: the staleness bound if a purge event is lost */
    RESPONSE_CACHE_MAX_AGE_S: seconds(10),
    /** after a purge, answers for its key are passed on but not kept for this long (the service's replicas hear it too) */
    RESPONSE_CACHE_SETTLE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),

    // --- circuit breaker per app (docs/decisions/0720): only the callee's failures count, never 4xx ---
    /** share of failed calls in the window that opens an app's breaker, percent */
    BREAKER_ERROR_PERCENT: positiveInt.max(100).default(50),
    /** calls an app must have had in the window before its breaker may open */
    BREAKER_MIN_CALLS: positiveInt.max(100_000).default(10),
    /** the rolling window failures are counted in */
    BREAKER_WINDOW_MS: milliseconds(10_000),
    /** how long an open breaker answers 503 before one trial call decides */
    BREAKER_OPEN_MS: milliseconds(15_000),

    // --- CORS ---
    /** allowed browser origins, comma-separated (`https://app.example.com`); unset = no cross-origin access */
    CORS_ALLOWED_ORIGINS: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o !== ''),
      )
      .pipe(
        z.array(z.url().regex(/^https?:\/\/[^/]+$/, 'expected an origin such as https://app.example.com (no path)')),
      )
      .default([]),
    CORS_ALLOW_CREDENTIALS: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    CORS_MAX_AGE_S: seconds(600),

    // --- live stream (GET /api/v1/stream, Server-Sent Events; docs/decisions/0650) ---
    /**
     * pub/sub component the stream's topics arrive through. Every replica must see every event
     * (a user's stream may be on any replica): the per-pod `pubsub-broadcast` of the chart and of
     * components/ (decision 0900).
     */
    BROADCAST_PUBSUB_NAME: componentNameConfig('pubsub-broadcast'),
    /** comment line written to every stream this often, so proxies and load balancers keep idle streams open */
    STREAM_HEARTBEAT_MS: positiveInt.min(100).max(300_000).default(15_000),
    /** the `retry:` hint: how long EventSource waits before reconnecting */
    STREAM_RETRY_MS: positiveInt.max(300_000).default(5_000),
    /** open streams per replica; beyond: 503 */
    STREAM_MAX_CONNECTIONS: positiveInt.max(1_000_000).default(10_000),
    /** open streams per user per replica (tabs, devices); beyond: 429 */
    STREAM_MAX_CONNECTIONS_PER_USER: positiveInt.max(1_000).default(5),
    /**
     * open streams per client address per replica, whoever signs in (many self-registered
     * accounts from one address must not hold every slot); beyond: 429
     */
    STREAM_MAX_CONNECTIONS_PER_ADDRESS: positiveInt.max(1_000_000).default(50),
    /**
     * bytes a stream may have queued for a client that does not read; beyond, the client is
     * dropped. 64 KiB holds dozens of events (a leaderboard frame is about 1 KiB) and keeps the
     * worst case bounded: STREAM_MAX_CONNECTIONS × this (bench/gateway/stream-memory.bench.ts).
     */
    STREAM_MAX_BUFFERED_BYTES: positiveInt
      .min(1_024)
      .max(64 * 1_048_576)
      .default(65_536),

    // --- the web app (services/web, built to static files; docs/decisions/0820) ---
    /** the built app (index.html and assets/); unset: services/web/dist beside this service; missing: no app */
    WEB_DIST_DIR: z.string().min(1).optional(),
  },
  { PORT: 8080 },
);

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
