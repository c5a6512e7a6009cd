import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { startOutboxRelay } from '@quizmesh/platform/outbox';
import { disconnectPrismaClient } from '@quizmesh/platform/db';
import { evaluationConfigSchema } from './config';
import { createEvaluationApp } from './app';
import { rebuildBoards } from './boards';
import { createEvaluationPrisma } from './db';
import { createLeaderboardStore } from './leaderboard';

async function main() {
  const config = loadConfigOrExit('evaluation', evaluationConfigSchema);
  const runtime = new ServiceRuntime({ service: 'evaluation', config, telemetry }).handleSignals();
  const prisma = createEvaluationPrisma(config.DATABASE_URL, runtime.logger);
  // Shutdown runs cleanups last-registered-first: relay, leaderboards, database, Dapr client.
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
  const relay = startOutboxRelay({
    prisma,
    dapr: runtime.dapr,
    pubsub: config.PUBSUB_NAME,
    logger: runtime.logger,
    source: 'evaluation',
    intervalMs: config.OUTBOX_POLL_MS,
    shutdown: runtime.shutdown,
  });
  const app = createEvaluationApp(runtime, config, { prisma, store, relay, logger: runtime.logger });
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('evaluation: failed to start:', err);
  process.exit(1);
});
