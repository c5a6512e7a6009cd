/**
 * The notification HTTP API: a player's own inbox (welcome, result and apology messages).
 * Used by the notification service to validate requests and by the gateway to generate its
 * OpenAPI document (`notificationOperations`, registered in registry.ts).
 *
 * There is no user id in any path: the inbox is always the caller's (the gateway forwards the
 * authenticated user), so one player cannot even name another's notifications.
 */
import { z } from 'zod';
import type { ApiOperation } from './operations';

/** How many messages an inbox keeps; older ones are dropped when new ones arrive. */
export const INBOX_LIMIT = 200;

export const NOTIFICATION_KINDS = ['welcome', 'result', 'attempt-failed'] as const;
export const notificationKindSchema = z.enum(NOTIFICATION_KINDS).meta({
  description:
    'welcome: after registration; result: an attempt was scored; attempt-failed: an attempt could not be scored.',
});

/**
 * A UUID derived from the event that caused the notification (so a redelivered event is the
 * same notification); also the `notificationId` of notification.created.
 */
export const notificationIdSchema = z.uuid({ message: 'must be a notification id (UUID)' });

export const notificationParamsSchema = z.object({ id: notificationIdSchema });

export const listNotificationsQuerySchema = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** `nextCursor` of the previous page */
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,400}$/, 'must be the nextCursor of a previous page')
      .optional(),
  })
  .meta({ id: 'ListNotificationsQuery' });

export const notificationSchema = z
  .object({
    id: notificationIdSchema,
    kind: notificationKindSchema,
    /** one line, also the mail subject */
    title: z.string(),
    /** plain text, also the mail body */
    body: z.string(),
    createdAt: z.iso.datetime(),
    /** null while unread */
    readAt: z.iso.datetime().nullable(),
    /** the quiz and attempt a result or apology is about (null for a welcome) */
    quizId: z.uuid().nullable(),
    attemptId: z.uuid().nullable(),
  })
  .meta({ id: 'Notification', description: 'A message in the caller’s inbox.' });

export const notificationListSchema = z
  .object({
    items: z.array(notificationSchema),
    /** unread messages in the whole inbox, not only this page */
    unreadCount: z.number().int().nonnegative(),
    nextCursor: z.string().nullable(),
  })
  .meta({
    id: 'NotificationList',
    description: `Newest first; pass nextCursor for the next page. The inbox keeps at most the newest ${INBOX_LIMIT} messages.`,
  });

export const readAllResultSchema = z
  .object({ marked: z.number().int().nonnegative() })
  .meta({ id: 'ReadAllNotificationsResult', description: 'How many unread messages were marked read.' });

// -------------------------------------------------------------------------------- operations

export type NotificationOperation = ApiOperation<'get' | 'post'>;

export const notificationOperations: readonly NotificationOperation[] = [
  {
    operationId: 'listNotifications',
    method: 'get',
    path: '/api/v1/notifications',
    summary: 'My notifications, newest first, with the unread count',
    access: 'user',
    query: listNotificationsQuerySchema,
    response: { status: 200, schema: notificationListSchema },
    errors: [401],
  },
  {
    operationId: 'markNotificationRead',
    method: 'post',
    path: '/api/v1/notifications/{id}/read',
    summary: 'Mark one of my notifications read',
    access: 'user',
    params: notificationParamsSchema,
    response: { status: 200, schema: notificationSchema },
    errors: [401, 404],
  },
  {
    operationId: 'markAllNotificationsRead',
    method: 'post',
    path: '/api/v1/notifications/read-all',
    summary: 'Mark all my notifications read',
    access: 'user',
    response: { status: 200, schema: readAllResultSchema },
    errors: [401],
  },
];

export type NotificationKind = z.infer<typeof notificationKindSchema>;
export type Notification = z.infer<typeof notificationSchema>;
export type NotificationList = z.infer<typeof notificationListSchema>;
export type ReadAllResult = z.infer<typeof readAllResultSchema>;
