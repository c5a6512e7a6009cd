/**
 * quiz as the system registry declares it: the app main.ts builds serves exactly the registry's
 * Subscriptions (each consumed topic and each dead-letter topic, compensation included).
 * Nothing is called: no database or sidecar needed.
 */
import { loadConfig, ServiceRuntime } from '@quizmesh/platform';
import { quizApp } from '@quizmesh/contracts/registry';
import { subscriptionsOf } from '@quizmesh/contracts/system';
import { createQuizApp } from '../src/app';
import { PlayerViewCache, QuizCache } from '../src/cache';
import { quizConfigSchema } from '../src/config';
import { createQuizPrisma } from '../src/db';

describe('quiz and the system registry', () => {
  it('serves exactly the Subscriptions the registry declares for quiz', async () => {
    const config = loadConfig(quizConfigSchema, {
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:9/none',
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const runtime = new ServiceRuntime({ service: 'quiz', config, exit: () => undefined });
    const prisma = createQuizPrisma(config.DATABASE_URL);
    try {
      createQuizApp(runtime, config, {
        prisma,
        cache: new QuizCache(runtime.dapr, config.STATE_STORE_NAME, config.QUIZ_CACHE_TTL_SECONDS, runtime.logger),
        views: new PlayerViewCache({ maxEntries: 1, maxAgeMs: 1_000 }),
        logger: runtime.logger,
        graceSeconds: config.SUBMIT_GRACE_SECONDS,
      });
      const served = runtime.subscriptions.list().map((s) => [s.pubsubname, s.topic, s.route]);
      const declared = subscriptionsOf(quizApp).map((s) => [s.pubsubname, s.topic, s.route]);
      expect(served.sort()).toEqual(declared.sort());
      // compensation: quiz receives quiz.completed's dead letters without consuming quiz.completed
      expect(served.map(([, topic]) => topic)).toContain('quiz.completed.deadletter');
      expect(served.map(([, topic]) => topic)).not.toContain('quiz.completed');
    } finally {
      await prisma.$disconnect();
      await runtime.dapr.close();
    }
  });
});
