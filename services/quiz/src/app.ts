import type { Express } from 'express';
import { databaseReadiness } from '@quizmesh/platform/db';
import type { ServiceRuntime } from '@quizmesh/platform';
import type { QuizConfig } from './config';
import { mountConsumers } from './consumers';
import { mountQuizRoutes, type QuizDeps } from './routes';

/** Builds quiz's Express app (no listening: tests use supertest or port 0). */
export function createQuizApp(runtime: ServiceRuntime, config: QuizConfig, deps: QuizDeps): Express {
  return runtime.createApp({
    readiness: {
      database: databaseReadiness(deps.prisma),
    },
    routes: (app) => {
      mountQuizRoutes(app, deps);
      mountConsumers(app, runtime, deps, { pubsub: config.PUBSUB_NAME, stateStore: config.STATE_STORE_NAME });
    },
  });
}
