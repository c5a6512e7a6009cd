/**
 * user.registered, score.calculated and attempt.failed → one inbox message and one mail each.
 *
 * Idempotent by event id: the message id is derived from (topic, event id), the inbox keeps
 * it, and a small `mail:<id>` key exists while its mail is still to send. So a redelivery neither adds a
 * second message nor mails twice; a mail that failed is retried with the redelivery (the
 * handler throws → RETRY). The one duplicate left is a crash between sending the mail and
 * recording it: mail is at-least-once, like every Dapr delivery. Two deliveries of one event
 * at the same moment (possible with at-least-once brokers) do not both send: the mail is
 * claimed first (ETag-checked, in the transaction that adds the message), and the loser answers RETRY until the winner has finished.
 *
 * Every new message is also announced as notification.created for the gateway's live stream.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { DeliveryOutcome, EventEnvelope, ServiceRuntime } from '@quizmesh/platform';
import {
  attemptFailed,
  notificationCreated,
  scoreCalculated,
  userRegistered,
  type NotificationCreated,
} from '@quizmesh/contracts/events';
import type { NotificationConfig } from './config';
import { notificationIdOf, type Contact, type InboxEntry, type NotificationStore } from './inbox';
import { attemptFailedMessage, mailHtml, resultMessage, welcomeMessage, type Message } from './messages';

/** How long a delivery may take to send one mail before another delivery may take over. */
export const MAIL_CLAIM_LEASE_MS = 30_000;

export interface Notifier {
  store: NotificationStore;
  runtime: ServiceRuntime;
  config: NotificationConfig;
  now?: () => Date;
}

async function notify(
  deps: Notifier,
  log: Logger,
  envelope: EventEnvelope,
  userId: string,
  contact: Contact | undefined,
  message: Message,
): Promise<DeliveryOutcome> {
  const now = deps.now?.() ?? new Date();
  const { entry, added, mail } = await deps.store.add(
    userId,
    {
      id: notificationIdOf(envelope.topic, envelope.id),
      eventId: envelope.id,
      topic: envelope.topic,
      ...message,
      createdAt: now.toISOString(),
      readAt: null,
    },
    contact !== undefined,
    now,
    MAIL_CLAIM_LEASE_MS,
  );
  const context = { topic: envelope.topic, eventId: envelope.id, userId, notificationId: entry.id };
  // The announcement goes out while the mail is sent: two calls to the sidecar at once rather
  // than one after the other (announce never throws; it is awaited before the answer).
  const announced = added ? announce(deps, log, userId, entry, context) : undefined;
  try {
    return await mailIfClaimed(deps, log, entry, contact, mail, context);
  } finally {
    await announced;
  }
}

async function mailIfClaimed(
  deps: Notifier,
  log: Logger,
  entry: InboxEntry,
  contact: Contact | undefined,
  mail: Awaited<ReturnType<NotificationStore['add']>>['mail'],
  context: object,
): Promise<DeliveryOutcome> {
  if (mail === 'no-address') {
    log.warn(context, 'no email address known for this user (no user.registered seen); inbox only, mail skipped');
  } else if (mail === 'busy') {
    // A concurrent delivery of the same event is sending it; come back once it has finished
    // (or, if it crashed, after the lease) rather than mail twice.
    log.debug(context, 'mail being sent by a concurrent delivery; asking for a retry');
    return 'RETRY';
  } else if (mail === 'address-lost') {
    // Claimed in an earlier delivery that knew the address; it is gone now: recorded, no mail.
    log.warn(context, 'email address no longer known; mail skipped');
  } else if (mail === 'claimed' && contact) {
    try {
      await deps.runtime.dapr.invokeBinding(deps.config.MAIL_BINDING_NAME, 'create', mailHtml(entry), {
        emailTo: contact.email,
        subject: entry.title,
      });
    } catch (err) {
      // Give the claim back so the redelivery (RETRY) sends it at once instead of after the lease.
      await deps.store.mailFailed(entry.id);
      throw err;
    }
    await deps.store.mailSent(entry.id);
    log.info(context, 'notification mailed');
  } else {
    log.debug(context, 'notification already handled');
  }
  return 'SUCCESS';
}

/**
 * notification.created for the gateway's live stream. Best effort, as its contract says: the
 * inbox is the record (a client that missed the push sees it on its next GET), so a failed
 * publish is logged and neither retried nor allowed to hold back the mail.
 */
async function announce(
  deps: Notifier,
  log: Logger,
  userId: string,
  entry: InboxEntry,
  context: object,
): Promise<void> {
  const event: NotificationCreated = {
    schemaVersion: 1,
    notificationId: entry.id,
    userId,
    kind: entry.kind,
    title: entry.title,
    body: entry.body,
    createdAt: entry.createdAt,
  };
  try {
    await deps.runtime.dapr.publish(
      deps.config.PUBSUB_NAME,
      notificationCreated.topic,
      notificationCreated.schema.parse(event),
    );
  } catch (err) {
    log.warn({ ...context, err }, 'notification.created not published; the inbox still has the message');
  }
}

/** Mounts notification's consumers (the one shape every service's `mountConsumers` has). */
export function mountConsumers(
  app: Express,
  runtime: ServiceRuntime,
  consumerDeps: Omit<Notifier, 'runtime'>,
  pubsub: string,
): void {
  const deps: Notifier = { ...consumerDeps, runtime };
  const { store } = deps;
  const log = runtime.logger;
  // Declared topics (components/common/subscriptions-notification.yaml), whatever the envelope says.
  const as = (envelope: EventEnvelope, topic: string): EventEnvelope => ({ ...envelope, topic });

  // Each contract's events, delivered at least once: an event without an id cannot be deduplicated.
  const on = <S extends z.ZodType>(
    contract: { topic: string; schema: S },
    handle: (event: z.infer<S>, envelope: EventEnvelope) => Promise<DeliveryOutcome>,
  ) =>
    runtime.subscriptions.add(app, {
      pubsub,
      topic: contract.topic,
      schema: contract.schema,
      requireEventId: true,
      handler: (event, envelope) => handle(event, as(envelope, contract.topic)),
    });

  on(userRegistered, async (event, envelope) => {
    const contact = { email: event.email, displayName: event.displayName, updatedAt: event.registeredAt };
    await store.saveContact(event.userId, contact);
    return notify(deps, log, envelope, event.userId, contact, welcomeMessage(event));
  });

  on(scoreCalculated, async (event, envelope) => {
    const contact = await store.contact(event.userId);
    return notify(deps, log, envelope, event.userId, contact, resultMessage(event, contact?.displayName));
  });

  on(attemptFailed, async (event, envelope) => {
    const contact = await store.contact(event.userId);
    log.info({ eventId: envelope.id, attemptId: event.attemptId, reason: event.reason }, 'attempt could not be scored');
    return notify(deps, log, envelope, event.userId, contact, attemptFailedMessage(event, contact?.displayName));
  });
}
