import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import { mountDeadLetters, type DeadLetters } from '@quizmesh/platform/deadletters';
import { notificationApp } from '@quizmesh/contracts/registry';
import { deadLetterTopicsOf } from '@quizmesh/contracts/system';
import type { NotificationConfig } from './config';
import { mountConsumers } from './consumers';
import { NotificationStore } from './inbox';
import { mountNotificationRoutes } from './routes';

export interface NotificationApp {
  app: Express;
  store: NotificationStore;
  deadLetters: DeadLetters;
}

/** Builds notification's Express app (no listening: tests use port 0). Readiness: the sidecar (no database). */
export function createNotificationApp(
  runtime: ServiceRuntime,
  config: NotificationConfig,
  options: { now?: () => Date } = {},
): NotificationApp {
  const store = new NotificationStore(runtime.dapr, config.STATE_STORE_NAME, config.INBOX_LIMIT);
  let deadLetters: DeadLetters | undefined;
  const app = runtime.createApp({
    routes: (router) => {
      mountNotificationRoutes(router, store, options.now);
      mountConsumers(router, { runtime, store, config, ...(options.now ? { now: options.now } : {}) });
      deadLetters = mountDeadLetters(router, {
        runtime,
        topics: deadLetterTopicsOf(notificationApp),
        pubsub: config.PUBSUB_NAME,
        stateStore: config.STATE_STORE_NAME,
      });
    },
  });
  if (!deadLetters) throw new Error('notification: dead letters were not mounted');
  return { app, store, deadLetters };
}
