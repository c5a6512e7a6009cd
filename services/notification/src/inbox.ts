/**
 * Notification's data in the Dapr state store (the service has no database):
 *  - `contact:<userId>`: email and display name, from user.registered;
 *  - `inbox:<userId>`: the user's messages, newest first, bounded. One key per user, changed
 *    with ETag optimistic concurrency, so two events for the same user at once both land.
 * A message's id is derived from the event that caused it: a redelivered event finds its
 * message already there (idempotence) and does not mail twice.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError, type Dapr } from '@quizmesh/platform';
import { OptimisticState } from '@quizmesh/platform';
import { notificationKindSchema, type Notification } from '@quizmesh/contracts/notification-api';

/**
 * The mail of a message: still to send, being sent by one delivery (claimed, so a concurrent
 * redelivery does not send it too), sent, or impossible (no address known).
 */
const mailStateSchema = z.enum(['pending', 'sending', 'sent', 'no-address']);
export type MailState = z.infer<typeof mailStateSchema>;

const inboxEntrySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  topic: z.string(),
  kind: notificationKindSchema,
  title: z.string(),
  body: z.string(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
  quizId: z.string().nullable(),
  attemptId: z.string().nullable(),
  mail: mailStateSchema,
  /** when the current `sending` claim was taken; a claim older than the lease may be taken over */
  mailClaimedAt: z.string().nullable().default(null),
});
export type InboxEntry = z.infer<typeof inboxEntrySchema>;

const inboxSchema = z.object({ entries: z.array(inboxEntrySchema) });
type Inbox = z.infer<typeof inboxSchema>;

const contactSchema = z.object({ email: z.string(), displayName: z.string(), updatedAt: z.string() });
export type Contact = z.infer<typeof contactSchema>;

/** contacts kept in process at most (the least recently used goes first) */
const MAX_CACHED_CONTACTS = 50_000;

/**
 * The notification id: a name-based UUID (RFC 9562 version 8, SHA-256 of topic and event id),
 * stable across redeliveries and shaped like every other id in the API and events.
 */
export function notificationIdOf(topic: string, eventId: string): string {
  const hash = createHash('sha256').update(topic).update('\0').update(eventId).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x80; // version 8
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Newest first; ties by id so the order, and the page cursor, are total. */
const newestFirst = (a: InboxEntry, b: InboxEntry) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1;

export function toNotification(entry: InboxEntry): Notification {
  return {
    id: entry.id,
    kind: entry.kind,
    title: entry.title,
    body: entry.body,
    createdAt: entry.createdAt,
    readAt: entry.readAt,
    quizId: entry.quizId,
    attemptId: entry.attemptId,
  };
}

export interface PageCursor {
  createdAt: string;
  id: string;
}

export class NotificationStore {
  private readonly state: OptimisticState;

  constructor(
    private readonly dapr: Dapr,
    private readonly storeName: string,
    private readonly inboxLimit: number,
  ) {
    this.state = new OptimisticState(dapr, storeName);
  }

  private static inboxKey = (userId: string) => `inbox:${userId}`;
  private static contactKey = (userId: string) => `contact:${userId}`;

  /**
   * Contacts read or written by this process. user.registered is a contact's only writer and
   * carries the whole record, once per user, so a contact known here stays right: each
   * score.calculated needs no state read for it (decision 0890). An unknown one is not kept.
   */
  private readonly contacts = new Map<string, Contact>();

  private rememberContact(userId: string, contact: Contact): void {
    this.contacts.delete(userId);
    this.contacts.set(userId, contact);
    if (this.contacts.size > MAX_CACHED_CONTACTS) {
      const oldest = this.contacts.keys().next();
      if (!oldest.done) this.contacts.delete(oldest.value);
    }
  }

  async saveContact(userId: string, contact: Contact): Promise<void> {
    // Last write wins: user.registered is the only writer and carries the whole record.
    await this.dapr.saveState(this.storeName, [{ key: NotificationStore.contactKey(userId), value: contact }]);
    this.rememberContact(userId, contact);
  }

  async contact(userId: string): Promise<Contact | undefined> {
    const known = this.contacts.get(userId);
    if (known) return known;
    const stored = (await this.state.readOne(contactSchema, NotificationStore.contactKey(userId)))?.value;
    if (stored) this.rememberContact(userId, stored);
    return stored;
  }

  private async inbox(userId: string): Promise<Inbox> {
    return (await this.state.readOne(inboxSchema, NotificationStore.inboxKey(userId)))?.value ?? { entries: [] };
  }

  /**
   * Adds the message unless the inbox already holds it (the same event again). Answers the
   * stored entry (its `mail` state says whether mailing is still to do) and whether it is new.
   */
  async add(userId: string, entry: InboxEntry): Promise<{ entry: InboxEntry; added: boolean }> {
    const key = NotificationStore.inboxKey(userId);
    return this.state.mutate<typeof inboxSchema, { entry: InboxEntry; added: boolean }>(
      inboxSchema,
      [key],
      (current) => {
        const found = current.get(key);
        const entries = found?.value.entries ?? [];
        const existing = entries.find((e) => e.id === entry.id);
        if (existing) return { writes: [], result: { entry: existing, added: false } };
        const next = [entry, ...entries].sort(newestFirst).slice(0, this.inboxLimit);
        return {
          writes: [{ key, value: { entries: next }, etag: found?.etag ?? null }],
          result: { entry, added: true },
        };
      },
    );
  }

  async setMailState(userId: string, id: string, mail: MailState): Promise<void> {
    await this.update(userId, (entries) => {
      let changed = 0;
      const next = entries.map((e) =>
        e.id === id && e.mail !== mail ? (changed++, { ...e, mail, mailClaimedAt: null }) : e,
      );
      return { entries: next, changed, result: undefined };
    });
  }

  /**
   * Takes the right to send the mail of message `id`: `claimed` (send it now), `busy` (another
   * delivery holds a claim younger than `leaseMs`), or the final state when there is nothing
   * to send. A claim older than the lease is taken over: its holder crashed.
   */
  async claimMail(
    userId: string,
    id: string,
    now: Date,
    leaseMs: number,
  ): Promise<'claimed' | 'busy' | 'sent' | 'no-address' | 'gone'> {
    return this.update(userId, (entries) => {
      const found = entries.find((e) => e.id === id);
      if (!found) return { entries, changed: 0, result: 'gone' as const };
      if (found.mail === 'sent' || found.mail === 'no-address') return { entries, changed: 0, result: found.mail };
      const claimedAt = found.mailClaimedAt === null ? 0 : Date.parse(found.mailClaimedAt);
      if (found.mail === 'sending' && now.getTime() - claimedAt < leaseMs)
        return { entries, changed: 0, result: 'busy' as const };
      const claimed = { ...found, mail: 'sending' as const, mailClaimedAt: now.toISOString() };
      return { entries: entries.map((e) => (e.id === id ? claimed : e)), changed: 1, result: 'claimed' as const };
    });
  }

  async page(userId: string, limit: number, after: PageCursor | undefined) {
    const entries = [...(await this.inbox(userId)).entries].sort(newestFirst);
    const start = after ? entries.findIndex((e) => newestFirst(e, { ...e, ...after }) > 0) : 0;
    const items = start < 0 ? [] : entries.slice(start, start + limit);
    const last = items.at(-1);
    const hasMore = start >= 0 && start + limit < entries.length;
    return {
      items,
      unreadCount: entries.filter((e) => e.readAt === null).length,
      next: hasMore && last ? { createdAt: last.createdAt, id: last.id } : undefined,
    };
  }

  /** Marks one message read (kept as first read); 404 when the inbox has no such message. */
  async markRead(userId: string, id: string, at: Date): Promise<InboxEntry> {
    return this.update(userId, (entries) => {
      const found = entries.find((e) => e.id === id);
      if (!found) throw AppError.notFound(`no notification ${id}`);
      if (found.readAt !== null) return { entries, changed: 0, result: found };
      const read = { ...found, readAt: at.toISOString() };
      return { entries: entries.map((e) => (e.id === id ? read : e)), changed: 1, result: read };
    });
  }

  async markAllRead(userId: string, at: Date): Promise<number> {
    return this.update(userId, (entries) => {
      const unread = entries.filter((e) => e.readAt === null).length;
      const readAt = at.toISOString();
      return {
        entries: entries.map((e) => (e.readAt === null ? { ...e, readAt } : e)),
        changed: unread,
        result: unread,
      };
    });
  }

  /** Read-modify-write of one inbox; nothing is written when `change` changed nothing. */
  private async update<R>(
    userId: string,
    change: (entries: InboxEntry[]) => { entries: InboxEntry[]; changed: number; result: R },
  ): Promise<R> {
    const key = NotificationStore.inboxKey(userId);
    return this.state.mutate(inboxSchema, [key], (current) => {
      const found = current.get(key);
      const { entries, changed, result } = change(found?.value.entries ?? []);
      if (changed === 0 || !found) return { writes: [], result };
      return { writes: [{ key, value: { entries }, etag: found.etag }], result };
    });
  }
}
