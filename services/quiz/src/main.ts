import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { startOutboxRelay } from '@quizmesh/platform/outbox';
import { disconnectPrismaClient } from '@quizmesh/platform/db';
import { quizConfigSchema } from './config';
import { createQuizApp } from './app';
import { QuizCache } from './cache';
import { createQuizPrisma } from './db';

async function main() {
  const config = loadConfigOrExit('quiz', quizConfigSchema);
  const runtime = new ServiceRuntime({ service: 'quiz', config, telemetry }).handleSignals();
  const prisma = createQuizPrisma(config.DATABASE_URL, runtime.logger);
  // Shutdown runs cleanups last-registered-first: relay, then database, then the Dapr client.
  runtime.shutdown.onShutdown('database', () => disconnectPrismaClient(prisma));
  const relay = startOutboxRelay({
    prisma,
    dapr: runtime.dapr,
    pubsub: config.PUBSUB_NAME,
    logger: runtime.logger,
    source: 'quiz',
    intervalMs: config.OUTBOX_POLL_MS,
    shutdown: runtime.shutdown,
  });
  const cache = new QuizCache(runtime.dapr, config.STATE_STORE_NAME, config.QUIZ_CACHE_TTL_SECONDS, runtime.logger);
  const app = createQuizApp(runtime, config, {
    prisma,
    cache,
    relay,
    logger: runtime.logger,
    graceSeconds: config.SUBMIT_GRACE_SECONDS,
    appApiToken: config.APP_API_TOKEN,
  });
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('quiz: failed to start:', err);
  process.exit(1);
});
