import type { Express } from 'express';
import { checkDatabase } from '@quizmesh/platform/db';
import { mountScheduledJob, type ServiceRuntime } from '@quizmesh/platform';
import { ATTEMPT_EXPIRY_BINDING, expireOverdueAttempts } from './attempts';
import type { QuizConfig } from './config';
import { mountConsumers } from './consumers';
import { mountQuizRoutes, type QuizDeps } from './routes';

/** Builds quiz's Express app (no listening: tests use supertest or port 0). */
export function createQuizApp(runtime: ServiceRuntime, config: QuizConfig, deps: QuizDeps): Express {
  return runtime.createApp({
    readiness: {
      database: async () => {
        const check = await checkDatabase(deps.prisma);
        if (!check.ok) throw new Error(check.error);
      },
    },
    routes: (app) => {
      mountQuizRoutes(app, deps);
      mountConsumers(app, runtime, deps, { pubsub: config.PUBSUB_NAME, stateStore: config.STATE_STORE_NAME });
      // Open attempts past their deadline plus grace become EXPIRED (decision 0840).
      mountScheduledJob(
        app,
        {
          binding: ATTEMPT_EXPIRY_BINDING,
          run: async () => {
            const outcome = await expireOverdueAttempts(deps.prisma, { graceSeconds: config.SUBMIT_GRACE_SECONDS });
            if (outcome.expired > 0) deps.relay?.wake();
            return outcome;
          },
        },
        { logger: runtime.logger, appApiToken: config.APP_API_TOKEN },
      );
    },
  });
}
