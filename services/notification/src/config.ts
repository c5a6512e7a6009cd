import { z } from 'zod';
import { serviceConfig } from '@quizmesh/platform';
import { PUBSUB_NAME } from '@quizmesh/contracts/events';
import { INBOX_LIMIT } from '@quizmesh/contracts/notification-api';

export const notificationConfigSchema = serviceConfig(
  {
    PUBSUB_NAME: z.string().min(1).default(PUBSUB_NAME),
    /** Dapr state store holding inboxes, contacts and dead letters (the service has no database) */
    STATE_STORE_NAME: z.string().min(1).default('statestore'),
    /** Dapr output binding (bindings.smtp) that sends the mail */
    MAIL_BINDING_NAME: z.string().min(1).default('mail'),
    /** messages kept per inbox, newest first */
    INBOX_LIMIT: z.coerce.number().int().min(1).max(1_000).default(INBOX_LIMIT),
  },
  { PORT: 3004 },
);

export type NotificationConfig = z.infer<typeof notificationConfigSchema>;
