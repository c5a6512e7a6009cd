import type { Express } from 'express';
import { databaseReadiness } from '@quizmesh/platform/db';
import type { ServiceRuntime } from '@quizmesh/platform';
import { mountDeadLetters } from '@quizmesh/platform/deadletters';
import { evaluationApp } from '@quizmesh/contracts/registry';
import { deadLetterTopicsOf } from '@quizmesh/contracts/system';
import type { EvaluationConfig } from './config';
import { Leaderboards } from './leaderboard';
import { AnswerKeys } from './answer-keys';
import { mountConsumers, type ConsumerDeps } from './consumers';
import { quizPublishedReader } from './quiz-published-reader';
import { Results } from './results';
import { mountRoutes } from './routes';

export type EvaluationDeps = Omit<ConsumerDeps, 'eventTop'>;

/** Builds evaluation's Express app (no listening: tests use supertest or port 0). */
export function createEvaluationApp(runtime: ServiceRuntime, config: EvaluationConfig, deps: EvaluationDeps): Express {
  const consumerDeps: ConsumerDeps = {
    ...deps,
    eventTop: config.LEADERBOARD_EVENT_TOP,
    answerKeys: new AnswerKeys(deps.prisma, {
      readMissing: quizPublishedReader(runtime.dapr, {
        quizAppId: config.QUIZ_APP_ID,
        timeoutMs: config.ANSWER_KEY_READ_TIMEOUT_MS,
        logger: deps.logger,
      }),
      logger: deps.logger,
    }),
  };
  return runtime.createApp({
    readiness: {
      database: databaseReadiness(deps.prisma),
      leaderboards: () => deps.store.check(),
    },
    routes: (app) => {
      mountConsumers(app, runtime, consumerDeps, config.PUBSUB_NAME);
      // Messages of those topics the consumers dropped or Dapr gave up on: listed and replayed by
      // an admin at /api/v1/admin/dead-letters (platform/deadletters).
      mountDeadLetters(app, {
        runtime,
        topics: deadLetterTopicsOf(evaluationApp),
        pubsub: config.PUBSUB_NAME,
        stateStore: config.STATE_STORE_NAME,
      });
      mountRoutes(app, {
        leaderboards: new Leaderboards(deps.prisma, deps.store),
        results: new Results(deps.prisma),
      });
    },
  });
}
