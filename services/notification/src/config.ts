import { z } from 'zod';
import { pubsubNameConfig, serviceConfig, stateStoreNameConfig } from '@quizmesh/platform';
import { INBOX_LIMIT } from '@quizmesh/contracts/notification-api';

export const notificationConfigSchema = serviceConfig(
  {
    PUBSUB_NAME: pubsubNameConfig(),
    /** Dapr state store holding inboxes, contacts and dead letters (the service has no database) */
    STATE_STORE_NAME: stateStoreNameConfig(),
    /** Dapr output binding (bindings.smtp) that sends the mail */
    MAIL_BINDING_NAME: z.string().min(1).default('mail'),
    /** messages kept per inbox, newest first */
    INBOX_LIMIT: z.coerce.number().int().min(1).max(1_000).default(INBOX_LIMIT),
  },
  { PORT: 3004 },
);

export type NotificationConfig = z.infer<typeof notificationConfigSchema>;
