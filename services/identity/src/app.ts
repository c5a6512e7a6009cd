import type { Express } from 'express';
import { checkDatabase } from '@quizmesh/platform/db';
import { mountScheduledJob, type ServiceRuntime } from '@quizmesh/platform';
import { mountDeadLetters } from '@quizmesh/platform/deadletters';
import { identityApp } from '@quizmesh/contracts/registry';
import { deadLetterTopicsOf } from '@quizmesh/contracts/system';
import type { IdentityConfig } from './config';
import { mountIdentityRoutes, type IdentityDeps } from './routes';
import { mountStatsConsumer } from './stats';
import { purgeEndedRefreshTokenFamilies, REFRESH_TOKEN_PURGE_BINDING } from './tokens';

/** Builds identity's Express app (no listening: tests use supertest or port 0). */
export function createIdentityApp(runtime: ServiceRuntime, config: IdentityConfig, deps: IdentityDeps): Express {
  return runtime.createApp({
    readiness: {
      database: async () => {
        const check = await checkDatabase(deps.prisma);
        if (!check.ok) throw new Error(check.error);
      },
      'signing-keys': () => deps.keys.check(),
    },
    routes: (app) => {
      mountIdentityRoutes(app, deps);
      mountStatsConsumer(app, runtime, deps.prisma, config.PUBSUB_NAME);
      // score.calculated messages the consumer dropped or gave up on: listed and replayed by an
      // admin at /api/v1/admin/dead-letters (platform/deadletters).
      mountDeadLetters(app, {
        runtime,
        topics: deadLetterTopicsOf(identityApp),
        pubsub: config.PUBSUB_NAME,
        stateStore: config.STATE_STORE_NAME,
      });
      mountScheduledJob(
        app,
        {
          binding: REFRESH_TOKEN_PURGE_BINDING,
          run: () => purgeEndedRefreshTokenFamilies(deps.prisma, config.REFRESH_TOKEN_RETENTION_SECONDS),
        },
        { logger: runtime.logger, appApiToken: config.APP_API_TOKEN },
      );
    },
  });
}
