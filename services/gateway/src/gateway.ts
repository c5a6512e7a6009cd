/**
 * Wires the gateway from its configuration: token verification against identity's JWKS
 * (through Dapr), the rate-limit store (Redis or memory), the sidecar proxy and the OpenAPI
 * document. `close()` releases what it opened (Redis connection, keep-alive sockets).
 */
import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import { createGatewayApp } from './app';
import { JwksCache } from './auth/jwks';
import { daprNotBeforeStore, Revocations } from './auth/revocations';
import { TokenVerifier } from './auth/tokens';
import { ResponseCache } from './cache/response-cache';
import type { GatewayConfig } from './config';
import { publicApiDocument } from './openapi/public-api';
import { SidecarProxy } from './proxy';
import { memoryRateLimiterStore, redisRateLimiterStore, type RateLimiterStore } from './rate-limit/limiter';
import { createGatewayLimits } from './rate-limit/limits';
import { parseSize } from './request-limits';
import { StreamHub } from './stream/hub';

export interface Gateway {
  app: Express;
  jwks: JwksCache;
  rateLimitStore: RateLimiterStore;
  /** forwarding to the services, with a circuit breaker per service */
  proxy: SidecarProxy;
  /** the live streams (GET /api/v1/stream); `streams.close()` ends them at the start of a shutdown */
  streams: StreamHub;
  /** the answers this replica keeps (decision 1000) */
  cache: ResponseCache;
  close(): Promise<void>;
}

const API_VERSION = '1.0.0';

export async function createGateway(runtime: ServiceRuntime, config: GatewayConfig): Promise<Gateway> {
  // First: a registry the document cannot be built from fails the start before any connection is opened.
  const openApi = publicApiDocument(API_VERSION);
  const logger = runtime.logger;
  const jwks = new JwksCache({
    fetchJwks: () => runtime.dapr.invoke<unknown>(config.JWKS_APP_ID, config.JWKS_PATH),
    ttlMs: config.JWKS_CACHE_TTL_MS,
    refetchIntervalMs: config.JWKS_REFETCH_INTERVAL_MS,
    logger,
  });
  const revocations = new Revocations({
    store: daprNotBeforeStore(runtime.dapr, config.STATE_STORE_NAME, config.REVOCATION_RETENTION_S),
    cacheTtlMs: config.REVOCATION_CACHE_TTL_MS,
    logger,
  });
  const verifier = new TokenVerifier({
    jwks,
    revocations,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    algorithms: config.JWT_ALGORITHMS,
    clockToleranceS: config.JWT_CLOCK_TOLERANCE_S,
  });
  const rateLimitStore = config.REDIS_URL
    ? redisRateLimiterStore({ url: config.REDIS_URL, keyPrefix: config.RATE_LIMIT_KEY_PREFIX, logger })
    : memoryRateLimiterStore(config.RATE_LIMIT_KEY_PREFIX);
  const proxy = new SidecarProxy({
    sidecarHost: config.DAPR_HOST,
    sidecarPort: config.DAPR_HTTP_PORT,
    daprApiToken: config.DAPR_API_TOKEN,
    upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    maxBodyBytes: parseSize(config.JSON_BODY_LIMIT),
    breaker: {
      errorPercent: config.BREAKER_ERROR_PERCENT,
      minCalls: config.BREAKER_MIN_CALLS,
      windowMs: config.BREAKER_WINDOW_MS,
      openMs: config.BREAKER_OPEN_MS,
    },
    logger,
  });
  const streams = new StreamHub({
    heartbeatMs: config.STREAM_HEARTBEAT_MS,
    retryMs: config.STREAM_RETRY_MS,
    maxConnections: config.STREAM_MAX_CONNECTIONS,
    maxConnectionsPerUser: config.STREAM_MAX_CONNECTIONS_PER_USER,
    maxConnectionsPerAddress: config.STREAM_MAX_CONNECTIONS_PER_ADDRESS,
    maxBufferedBytes: config.STREAM_MAX_BUFFERED_BYTES,
    logger: logger.child({ component: 'stream' }),
  });
  const cache = new ResponseCache({
    maxEntries: config.RESPONSE_CACHE_MAX_ENTRIES,
    maxBytes: config.RESPONSE_CACHE_MAX_BYTES,
    maxAgeMs: config.RESPONSE_CACHE_MAX_AGE_S * 1000,
    settleMs: config.RESPONSE_CACHE_SETTLE_MS,
  });
  const app = createGatewayApp(runtime, config, {
    cache,
    proxy,
    verifier,
    limits: createGatewayLimits(rateLimitStore, config),
    openApi,
    streams,
    revocations,
  });
  return {
    app,
    jwks,
    rateLimitStore,
    proxy,
    streams,
    cache,
    close: async () => {
      streams.close();
      await proxy.close();
      await rateLimitStore.close();
    },
  };
}
