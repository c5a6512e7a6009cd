/**
 * Evaluation's composition root: everything `main.ts` starts, built from the runtime and the
 * configuration, and used as is by the test harness. Cleanups are registered on
 * `runtime.shutdown` (last registered first: relay, leaderboards, database, Dapr client).
 */
import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import { disconnectPrismaClient } from '@quizmesh/platform/db';
import { startServiceOutboxRelay, type OutboxRelay, type OutboxRelayTuning } from '@quizmesh/platform/outbox';
import { createEvaluationApp } from './app';
import type { EvaluationConfig } from './config';
import { createEvaluationPrisma, type PrismaClient } from './db';
import { createLeaderboardStore, rebuildBoards, type LeaderboardStore } from './leaderboard';

export interface Evaluation {
  app: Express;
  prisma: PrismaClient;
  store: LeaderboardStore;
  relay: OutboxRelay;
}

export interface EvaluationOverrides {
  relay?: OutboxRelayTuning;
}

export async function createEvaluation(
  runtime: ServiceRuntime,
  config: EvaluationConfig,
  overrides: EvaluationOverrides = {},
): Promise<Evaluation> {
  const prisma = createEvaluationPrisma(config.DATABASE_URL, runtime.logger);
  runtime.shutdown.onShutdown('database', () => disconnectPrismaClient(prisma));
  const store = createLeaderboardStore({
    redisUrl: config.REDIS_URL,
    keyPrefix: config.LEADERBOARD_KEY_PREFIX,
    logger: runtime.logger,
  });
  runtime.shutdown.onShutdown('leaderboards', () => store.close());
  // The in-process board starts empty, and a Redis that lost its data does too: refill from
  // PostgreSQL before serving (the global board holds every ranked player, so it is the probe).
  if (store.kind === 'memory' || (await store.size('global')) === 0) {
    const entries = await rebuildBoards(prisma, store);
    runtime.logger.info({ entries, store: store.kind }, 'leaderboards rebuilt from the database');
  }
  const relay = startServiceOutboxRelay(runtime, prisma, config, overrides.relay);
  const app = createEvaluationApp(runtime, config, { prisma, store, relay, logger: runtime.logger });
  return { app, prisma, store, relay };
}
