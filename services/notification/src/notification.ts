/**
 * Notification's composition root: everything `main.ts` starts, built from the runtime and the
 * configuration, and used as is by the test harness. It holds no connection of its own: the
 * inbox and the dead letters live in Dapr state, reached through `runtime.dapr`.
 */
import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import type { DeadLetters } from '@quizmesh/platform/deadletters';
import { createNotificationApp } from './app';
import type { NotificationConfig } from './config';
import { NotificationStore } from './inbox';

export interface Notification {
  app: Express;
  store: NotificationStore;
  deadLetters: DeadLetters;
}

export interface NotificationOverrides {
  /** the clock of the inbox and the consumers (tests pin it) */
  now?: () => Date;
}

export function createNotification(
  runtime: ServiceRuntime,
  config: NotificationConfig,
  overrides: NotificationOverrides = {},
): Notification {
  const store = new NotificationStore(runtime.dapr, config.STATE_STORE_NAME, config.INBOX_LIMIT);
  const { app, deadLetters } = createNotificationApp(runtime, config, { store, now: overrides.now });
  return { app, store, deadLetters };
}
