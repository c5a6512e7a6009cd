/**
 * Quiz's composition root: everything `main.ts` starts, built from the runtime and the
 * configuration, and used as is by the test harness. Cleanups are registered on
 * `runtime.shutdown` (last registered first: relay, then database, then the Dapr client).
 */
import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import { disconnectPrismaClient } from '@quizmesh/platform/db';
import { startServiceOutboxRelay, type OutboxRelay, type OutboxRelayTuning } from '@quizmesh/platform/outbox';
import { createQuizApp } from './app';
import { PlayerViewCache, QuizCache } from './cache';
import type { QuizConfig } from './config';
import { createQuizPrisma, type PrismaClient } from './db';
import type { QuizDeps } from './routes';

export interface Quiz {
  app: Express;
  prisma: PrismaClient;
  relay: OutboxRelay;
  deps: QuizDeps;
}

export interface QuizOverrides {
  relay?: OutboxRelayTuning;
}

export function createQuiz(runtime: ServiceRuntime, config: QuizConfig, overrides: QuizOverrides = {}): Quiz {
  const prisma = createQuizPrisma(config.DATABASE_URL, runtime.logger);
  runtime.shutdown.onShutdown('database', () => disconnectPrismaClient(prisma));
  const relay = startServiceOutboxRelay(runtime, prisma, config, overrides.relay);
  const deps: QuizDeps = {
    prisma,
    cache: new QuizCache(runtime.dapr, config.STATE_STORE_NAME, config.QUIZ_CACHE_TTL_SECONDS, runtime.logger),
    views: new PlayerViewCache({
      maxEntries: config.QUIZ_VIEW_CACHE_ENTRIES,
      maxAgeMs: config.QUIZ_VIEW_CACHE_SECONDS * 1000,
    }),
    relay,
    logger: runtime.logger,
    graceSeconds: config.SUBMIT_GRACE_SECONDS,
    appApiToken: config.APP_API_TOKEN,
  };
  return { app: createQuizApp(runtime, config, deps), prisma, relay, deps };
}
