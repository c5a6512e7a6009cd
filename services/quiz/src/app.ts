import type { Express } from 'express';
import { databaseReadiness } from '@quizmesh/platform/db';
import { mountScheduledJob, type ServiceRuntime } from '@quizmesh/platform';
import { mountDeadLetters } from '@quizmesh/platform/deadletters';
import { quizApp } from '@quizmesh/contracts/registry';
import { deadLetterTopicsOf } from '@quizmesh/contracts/system';
import { ATTEMPT_EXPIRY_BINDING, expireOverdueAttempts } from './attempts';
import type { QuizConfig } from './config';
import { compensateDeadLetter, mountConsumers } from './consumers';
import { mountQuizRoutes, type QuizDeps } from './routes';

/** Builds quiz's Express app (no listening: tests use supertest or port 0). */
export function createQuizApp(runtime: ServiceRuntime, config: QuizConfig, deps: QuizDeps): Express {
  return runtime.createApp({
    readiness: {
      database: databaseReadiness(deps.prisma),
    },
    routes: (app) => {
      mountQuizRoutes(app, deps);
      // Dead letters of what quiz consumes, and of quiz.completed (evaluation's to consume, quiz's to
      // compensate): listed and replayed by an admin at /api/v1/admin/dead-letters (platform/deadletters).
      const deadLetters = mountDeadLetters(app, {
        runtime,
        topics: deadLetterTopicsOf(quizApp),
        pubsub: config.PUBSUB_NAME,
        stateStore: config.STATE_STORE_NAME,
        onDeadLetter: compensateDeadLetter(deps),
      });
      // A score for a compensated attempt resolves quiz's own copy of its dead letter (decision 0781).
      mountConsumers(
        app,
        runtime,
        { ...deps, reconcileDeadLetter: (topic, eventId, note) => deadLetters.reconcile(topic, eventId, note) },
        config.PUBSUB_NAME,
        config.BROADCAST_PUBSUB_NAME,
      );
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
