/**
 * Notification's data in the Dapr state store (the service has no database):
 *  - `contact:<userId>`: email and display name, from user.registered;
 *  - `inbox:<userId>`: the user's messages, newest first, bounded. One key per user, changed
 *    with ETag optimistic concurrency, so two events for the same user at once both land;
 *  - `mail:<notificationId>`: a mail still to send (claimed by a delivery, or given back after a
 *    failed send). It is written with the message, in the same transaction, and deleted once
 *    the mail went out: a message without one has nothing left to mail. Kept apart from the
 *    inbox so recording the send moves a few bytes instead of rewriting the inbox (decision 0890).
 * A message's id is derived from the event that caused it: a redelivered event finds its
 * message already there (idempotence) and does not mail twice.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError, type Dapr } from '@quizmesh/platform';
import { OptimisticState } from '@quizmesh/platform';
import { notificationKindSchema, type Notification } from '@quizmesh/contracts/notification-api';

/**
 * The mail state an inbox entry carried before it had its own key (inboxes persisted by older
 * versions): still to send, being sent, sent, or impossible (no address known). Read, never
 * written: claiming such a mail moves it to its own key.
 */
const legacyMailStateSchema = z.enum(['pending', 'sending', 'sent', 'no-address']);

/**
 * A mail still to send: `sending` (claimed by one delivery at `claimedAt`, so a concurrent
 * redelivery does not send it too) or `pending` (its send failed; the next delivery takes it).
 */
const mailClaimSchema = z.object({ mail: z.enum(['pending', 'sending']), claimedAt: z.string().nullable() });
type MailClaim = z.infer<typeof mailClaimSchema>;

/** What a delivery is to do about the mail of its message. */
export type MailTurn = 'claimed' | 'busy' | 'done' | 'no-address' | 'address-lost';

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
  /** legacy (see legacyMailStateSchema); absent on entries written now */
  mail: legacyMailStateSchema.optional(),
  mailClaimedAt: z.string().nullable().optional(),
});
export type InboxEntry = z.infer<typeof inboxEntrySchema>;

const inboxSchema = z.object({ entries: z.array(inboxEntrySchema) });
type Inbox = z.infer<typeof inboxSchema>;

const contactSchema = z.object({ email: z.string(), displayName: z.string(), updatedAt: z.string() });
export type Contact = z.infer<typeof contactSchema>;

/** Keys of several shapes read together: each is parsed with its own schema (parseStored). */
const storedValueSchema = z.unknown();

function parseStored<S extends z.ZodType>(schema: S, key: string, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new AppError(500, {
      code: 'corrupt-state',
      detail: `state key ${key} holds an unexpected value`,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

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
  static mailKey = (notificationId: string) => `mail:${notificationId}`;

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
   * Adds the message unless the inbox already holds it (the same event again) and decides,
   * in the same read and transaction, who mails it: a new message with an address is stored
   * with its mail claimed for this delivery (`claimed`); a known one answers the mail's turn:
   * `claimed` (to send now: still to send, or its claim is older than `leaseMs`, its holder
   * crashed), `busy` (another delivery holds a younger claim), `done` (nothing left to send),
   * `no-address` (none known), `address-lost` (to send, but the address is gone: recorded).
   * One bulk read and at most one transaction, whatever the case.
   */
  async add(
    userId: string,
    entry: InboxEntry,
    address: boolean,
    now: Date,
    leaseMs: number,
  ): Promise<{ entry: InboxEntry; added: boolean; mail: MailTurn }> {
    const inboxKey = NotificationStore.inboxKey(userId);
    const mailKey = NotificationStore.mailKey(entry.id);
    type Outcome = { entry: InboxEntry; added: boolean; mail: MailTurn };
    return this.state.mutate<z.ZodUnknown, Outcome>(storedValueSchema, [inboxKey, mailKey], (current) => {
      const inbox = current.get(inboxKey);
      const entries = inbox ? parseStored(inboxSchema, inboxKey, inbox.value).entries : [];
      const claimRead = current.get(mailKey);
      const claim = claimRead && parseStored(mailClaimSchema, mailKey, claimRead.value);
      const claimEtag = claimRead?.etag ?? null;
      const sending: MailClaim = { mail: 'sending', claimedAt: now.toISOString() };
      const existing = entries.find((e) => e.id === entry.id);
      if (!existing) {
        const next = [entry, ...entries].sort(newestFirst).slice(0, this.inboxLimit);
        return {
          writes: [
            { key: inboxKey, value: { entries: next }, etag: inbox?.etag ?? null },
            ...(address ? [{ key: mailKey, value: sending, etag: claimEtag }] : []),
          ],
          result: { entry, added: true, mail: address ? 'claimed' : 'no-address' },
        };
      }
      const known = (mail: MailTurn): Outcome => ({ entry: existing, added: false, mail });
      const { mail: legacyMail, mailClaimedAt: legacyClaimedAt, ...withoutLegacy } = existing;
      const state = claim?.mail ?? legacyMail;
      if (state === undefined || state === 'sent') return { writes: [], result: known('done') };
      if (state === 'no-address') return { writes: [], result: known('no-address') };
      const claimedAt = claim ? claim.claimedAt : (legacyClaimedAt ?? null);
      const age = now.getTime() - (claimedAt === null ? 0 : Date.parse(claimedAt));
      if (state === 'sending' && age < leaseMs) return { writes: [], result: known('busy') };
      // A legacy entry's mail state moves to its own key (or goes, when there is nothing to send).
      const inboxWrites =
        legacyMail === undefined || !inbox
          ? []
          : [
              {
                key: inboxKey,
                value: { entries: entries.map((e) => (e.id === existing.id ? withoutLegacy : e)) },
                etag: inbox.etag,
              },
            ];
      if (!address) {
        const drop = claimRead ? [{ key: mailKey, delete: true as const, etag: claimRead.etag }] : [];
        return { writes: [...inboxWrites, ...drop], result: known('address-lost') };
      }
      return {
        writes: [...inboxWrites, { key: mailKey, value: sending, etag: claimEtag }],
        result: known('claimed'),
      };
    });
  }

  /** The claimed mail went out: nothing is left to send (only this delivery holds the claim). */
  async mailSent(id: string): Promise<void> {
    await this.state.deleteKey(NotificationStore.mailKey(id));
  }

  /** The claimed mail could not be sent: give the claim back so the redelivery sends it at once. */
  async mailFailed(id: string): Promise<void> {
    const pending: MailClaim = { mail: 'pending', claimedAt: null };
    await this.state.saveUnconditionally(NotificationStore.mailKey(id), pending);
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
