/** The notification HTTP API (contracts: @quizmesh/contracts/notification-api): the caller's own inbox. */
import type { Express } from 'express';
import { z } from 'zod';
import { AppError, mountOperations, parseParams, parseQuery, requireUser } from '@quizmesh/platform';
import { notificationApp } from '@quizmesh/contracts/registry';
import {
  listNotificationsQuerySchema,
  notificationParamsSchema,
  type NotificationList,
  type ReadAllResult,
} from '@quizmesh/contracts/notification-api';
import { toNotification, type NotificationStore, type PageCursor } from './inbox';

const cursorPayloadSchema = z.object({ t: z.iso.datetime(), i: z.string().min(1) });

const encodeCursor = (next: PageCursor) =>
  Buffer.from(JSON.stringify({ t: next.createdAt, i: next.id })).toString('base64url');

function decodeCursor(cursor: string): PageCursor {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    payload = undefined;
  }
  const parsed = cursorPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    const message = 'must be the nextCursor of a previous page';
    throw AppError.badRequest(`query.cursor: ${message}`, [{ field: 'query.cursor', message }]);
  }
  return { createdAt: parsed.data.t, id: parsed.data.i };
}

export function mountNotificationRoutes(
  app: Express,
  store: NotificationStore,
  now: () => Date = () => new Date(),
): void {
  mountOperations(app, notificationApp, {
    listNotifications: async (req, res) => {
      const user = requireUser(req);
      const query = parseQuery(req, listNotificationsQuerySchema);
      const page = await store.page(user.id, query.limit, query.cursor ? decodeCursor(query.cursor) : undefined);
      const body: NotificationList = {
        items: page.items.map(toNotification),
        unreadCount: page.unreadCount,
        nextCursor: page.next ? encodeCursor(page.next) : null,
      };
      res.json(body);
    },
    markAllNotificationsRead: async (req, res) => {
      const user = requireUser(req);
      const body: ReadAllResult = { marked: await store.markAllRead(user.id, now()) };
      res.json(body);
    },
    markNotificationRead: async (req, res) => {
      const user = requireUser(req);
      const { id } = parseParams(req, notificationParamsSchema);
      res.json(toNotification(await store.markRead(user.id, id, now())));
    },
  });
}
