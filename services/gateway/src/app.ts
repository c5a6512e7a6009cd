/**
 * The gateway's Express app. Everything is mounted before the platform's body parser
 * (`beforeBodyParsing`): proxied bodies must stream through untouched.
 */
import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import type { GatewayConfig } from './config';
import { corsMiddleware } from './cors';
import { forwardMiddleware, ipLimitMiddleware } from './forward';
import { mountRevocationConsumer } from './auth/revocation-consumer';
import type { Revocations } from './auth/revocations';
import type { TokenVerifier } from './auth/tokens';
import { mountCachePurges, type CachePurges } from './cache/purges';
import type { ResponseCache } from './cache/response-cache';
import { mountApiDocs } from './openapi/public-api';
import type { OpenApiDocument } from './openapi/document';
import type { SidecarProxy } from './proxy';
import type { GatewayLimits } from './rate-limit/limits';
import { parseSize } from './request-limits';
import { mountStatus } from './status';
import { mountStreamConsumers, sidecarOnly } from './stream/consumers';
import type { StreamHub } from './stream/hub';
import { mountStream } from './stream/route';
import { mountBrowserSession } from './web/session';
import { defaultWebDistDir, mountWebApp } from './web/static';

export interface GatewayDeps {
  proxy: SidecarProxy;
  cache: ResponseCache;
  verifier: TokenVerifier;
  limits: GatewayLimits;
  openApi: OpenApiDocument;
  streams: StreamHub;
  revocations: Pick<Revocations, 'revoke'>;
}

/** Builds the gateway's Express app (no listening: tests use supertest or port 0). */
export function createGatewayApp(runtime: ServiceRuntime, config: GatewayConfig, deps: GatewayDeps): Express {
  return runtime.createApp({
    // The public entry: only /events (sidecarOnly below) is for its sidecar.
    publicEntry: true,
    beforeBodyParsing: (app) => {
      app.set('trust proxy', trustProxyValue(config.TRUST_PROXY));
      // Preflights are answered here, before limits and tokens (browsers send no Authorization on them).
      app.use(corsMiddleware(config));
      app.use(ipLimitMiddleware(deps.limits));
      mountStatus(app, runtime, config.UPSTREAM_APP_IDS);
      mountApiDocs(app, deps.openApi);
      mountStream(app, {
        hub: deps.streams,
        verifier: deps.verifier,
        limits: deps.limits,
        retryMs: config.STREAM_RETRY_MS,
      });
      mountBrowserSession(app, {
        runtime,
        limits: deps.limits,
        maxBodyBytes: parseSize(config.JSON_BODY_LIMIT),
        bodyTimeoutMs: config.REQUEST_BODY_TIMEOUT_MS,
      });
      app.use('/events', sidecarOnly(config.APP_API_TOKEN));
      app.use(
        forwardMiddleware({
          proxy: deps.proxy,
          verifier: deps.verifier,
          limits: deps.limits,
          cache: deps.cache,
          maxBodyBytes: parseSize(config.JSON_BODY_LIMIT),
          bodyTimeoutMs: config.REQUEST_BODY_TIMEOUT_MS,
          logger: runtime.logger,
        }),
      );
      // After the API: the app only sees what no API route took (docs/decisions/0820).
      mountWebApp(app, { distDir: config.WEB_DIST_DIR ?? defaultWebDistDir(), logger: runtime.logger });
    },
    // Only event deliveries from the sidecar are parsed (JSON CloudEvents); every other route is above.
    routes: (app) => {
      const purges: CachePurges = mountCachePurges(app, runtime, deps.cache, {
        broadcastPubsub: config.BROADCAST_PUBSUB_NAME,
      });
      mountStreamConsumers(app, runtime, deps.streams, { broadcastPubsub: config.BROADCAST_PUBSUB_NAME, purges });
      mountRevocationConsumer(app, runtime, deps.revocations, { broadcastPubsub: config.BROADCAST_PUBSUB_NAME });
    },
  });
}

/** `TRUST_PROXY` as Express understands it: a hop count, true/false, or names/CIDRs. */
export function trustProxyValue(value: string): number | boolean | string {
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}
