import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import { mountDeadLetters, type DeadLetters } from '@quizmesh/platform/deadletters';
import { notificationApp } from '@quizmesh/contracts/registry';
import { deadLetterTopicsOf } from '@quizmesh/contracts/system';
import type { NotificationConfig } from './config';
import { mountConsumers } from './consumers';
import type { NotificationStore } from './inbox';
import { mountNotificationRoutes } from './routes';

export interface NotificationDeps {
  store: NotificationStore;
  /** the clock of the inbox and the consumers (tests pin it) */
  now?: (() => Date) | undefined;
}

/** Builds notification's Express app (no listening: tests use port 0). Readiness: the sidecar (no database). */
export function createNotificationApp(
  runtime: ServiceRuntime,
  config: NotificationConfig,
  deps: NotificationDeps,
): { app: Express; deadLetters: DeadLetters } {
  const { store, now } = deps;
  let deadLetters: DeadLetters | undefined;
  const app = runtime.createApp({
    routes: (router) => {
      mountNotificationRoutes(router, store, now);
      mountConsumers(router, runtime, { store, config, ...(now ? { now } : {}) }, config.PUBSUB_NAME);
      deadLetters = mountDeadLetters(router, {
        runtime,
        topics: deadLetterTopicsOf(notificationApp),
        pubsub: config.PUBSUB_NAME,
        stateStore: config.STATE_STORE_NAME,
      });
    },
  });
  if (!deadLetters) throw new Error('notification: dead letters were not mounted');
  return { app, deadLetters };
}
