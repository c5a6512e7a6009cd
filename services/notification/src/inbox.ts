/**
 * Notification's data in the Dapr state store (the service has no database):
 *  - `contact:<userId>`: email and display name, from user.registered;
 *  - `inbox:<userId>:head`: the head of the user's inbox: its newest messages (at most one
 *    segment's worth), and for each older segment its number, message count, unread count,
 *    newest and oldest message.
 *    Every change of an inbox writes its head with ETag optimistic concurrency, so two events
 *    for the same user at once both land, and segments only change together with their head;
 *  - `inbox:<userId>:<n>`: a segment of `segmentSize` older messages, written once when the head
 *    overflows, rewritten only to mark messages read, deleted (the oldest first) when the inbox
 *    is over its limit. So a new message writes the small head, not the whole inbox
 *    (decision 1060);
 *  - `mail:<notificationId>`: the mail of a message: still to send (claimed by a delivery, or
 *    given back after a failed send) or done. It is written with the message, in the same
 *    transaction, and lives as long as the message: read with the head, it tells a redelivered
 *    event that its message exists however old it is, without reading the segments.
 * A message's id is derived from the event that caused it: a redelivered event finds its
 * message already there (idempotence) and does not mail twice.
 *
 * Inboxes of older versions (one document `{entries}` under `inbox:<userId>`) are read as they
 * are and moved to this shape by their next write. The head has a key of its own so that a
 * replica of an older version, during a rolling update, never reads a head as its whole inbox
 * and writes it back without the segments: what it writes to the old key is merged in by the
 * next write here.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  ContentionError,
  type ConditionalWrite,
  type Dapr,
  type MutationPlan,
  type Versioned,
} from '@quizmesh/platform';
import { OptimisticState } from '@quizmesh/platform';
import { notificationKindSchema, type Notification } from '@quizmesh/contracts/notification-api';

/**
 * The mail state an inbox entry carried before it had its own key (inboxes persisted by older
 * versions): still to send, being sent, sent, or impossible (no address known). Read, never
 * written: moved to the mail key when the inbox is migrated.
 */
const legacyMailStateSchema = z.enum(['pending', 'sending', 'sent', 'no-address']);

/**
 * A message's mail: `sending` (claimed by one delivery at `claimedAt`, so a concurrent
 * redelivery does not send it too), `pending` (its send failed; the next delivery takes it),
 * `done` (sent, or nothing to send) or `no-address` (an older version's record: none known).
 */
const mailRecordSchema = z.object({
  mail: z.enum(['pending', 'sending', 'done', 'no-address']),
  claimedAt: z.string().nullable(),
});
type MailRecord = z.infer<typeof mailRecordSchema>;
const MAIL_DONE: MailRecord = { mail: 'done', claimedAt: null };

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

const entriesSchema = z.object({ entries: z.array(inboxEntrySchema) });

const segmentInfoSchema = z.object({
  n: z.number().int(),
  count: z.number().int(),
  unread: z.number().int(),
  /** the segment's newest and oldest messages: a page reads only the segments it reaches */
  newest: z.object({ createdAt: z.string(), id: z.string() }),
  oldest: z.object({ createdAt: z.string(), id: z.string() }),
});
type SegmentInfo = z.infer<typeof segmentInfoSchema>;

/** The head: the newest messages, newest first; its segments newest first. */
const headSchema = z.object({
  version: z.literal(2),
  entries: z.array(inboxEntrySchema),
  segments: z.array(segmentInfoSchema),
  /** the number of the next segment (never reused: a segment key is written once) */
  nextSegment: z.number().int(),
});
type Head = z.infer<typeof headSchema>;

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

/** messages per segment at most, and in the head before it overflows */
const MAX_SEGMENT_SIZE = 20;

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
const newestFirst = (a: PageCursor, b: PageCursor) =>
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

const withoutLegacyMail = ({ mail: _mail, mailClaimedAt: _claimedAt, ...entry }: InboxEntry): InboxEntry => entry;
const unreadIn = (entries: readonly InboxEntry[]) => entries.filter((e) => e.readAt === null).length;

/** The mail record an older version kept in the entry itself. */
function legacyMailRecord(entry: InboxEntry): MailRecord {
  switch (entry.mail) {
    case 'pending':
      return { mail: 'pending', claimedAt: null };
    case 'sending':
      return { mail: 'sending', claimedAt: entry.mailClaimedAt ?? null };
    case 'no-address':
      return { mail: 'no-address', claimedAt: null };
    default:
      return MAIL_DONE;
  }
}

export interface InboxLayout {
  /** messages per segment; the head holds up to this many too before it overflows */
  segmentSize: number;
}

/** A tenth of the limit, at most MAX_SEGMENT_SIZE: once full, an inbox keeps at least 90% of its limit. */
export const defaultLayout = (inboxLimit: number): InboxLayout => ({
  segmentSize: Math.max(1, Math.min(MAX_SEGMENT_SIZE, Math.floor(inboxLimit / 10))),
});

const cursorOf = (entry: InboxEntry): PageCursor => ({ createdAt: entry.createdAt, id: entry.id });
const emptyHead = (): Head => ({ version: 2, entries: [], segments: [], nextSegment: 0 });

/** A segment's summary in the head, from its messages (newest first). */
function segmentInfo(n: number, entries: readonly InboxEntry[]): SegmentInfo {
  const [newest] = entries;
  const oldest = entries.at(-1);
  if (!newest || !oldest) throw new Error('an inbox segment is never empty');
  return { n, count: entries.length, unread: unreadIn(entries), newest: cursorOf(newest), oldest: cursorOf(oldest) };
}

type Outcome = { entry: InboxEntry; added: boolean; mail: MailTurn };

export class NotificationStore {
  private readonly state: OptimisticState;
  private readonly segmentSize: number;

  constructor(
    private readonly dapr: Dapr,
    private readonly storeName: string,
    private readonly inboxLimit: number,
    layout: InboxLayout = defaultLayout(inboxLimit),
  ) {
    this.state = new OptimisticState(dapr, storeName);
    this.segmentSize = layout.segmentSize;
  }

  static headKey = (userId: string) => `inbox:${userId}:head`;
  /** the single-document inbox of older versions */
  static legacyInboxKey = (userId: string) => `inbox:${userId}`;
  static segmentKey = (userId: string, n: number) => `inbox:${userId}:${n}`;
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

  /**
   * Adds the message unless the inbox already holds it (the same event again) and decides,
   * in the same read and transaction, who mails it: a new message with an address is stored
   * with its mail claimed for this delivery (`claimed`); a known one answers the mail's turn:
   * `claimed` (to send now: still to send, or its claim is older than `leaseMs`, its holder
   * crashed), `busy` (another delivery holds a younger claim), `done` (nothing left to send),
   * `no-address` (none known), `address-lost` (to send, but the address is gone: recorded).
   * One bulk read (the head and the mail record) and at most one transaction, whatever the
   * case and however full the inbox: the head, the mail record, and when the head overflows
   * one new segment (and the deletion of the oldest when the inbox is over its limit).
   */
  async add(userId: string, entry: InboxEntry, address: boolean, now: Date, leaseMs: number): Promise<Outcome> {
    const headKey = NotificationStore.headKey(userId);
    const legacyKey = NotificationStore.legacyInboxKey(userId);
    const mailKey = NotificationStore.mailKey(entry.id);
    const sending: MailRecord = { mail: 'sending', claimedAt: now.toISOString() };
    for (;;) {
      const outcome = await this.state.mutate<z.ZodUnknown, Outcome | 'legacy'>(
        storedValueSchema,
        [headKey, legacyKey, mailKey],
        async (current) => {
          if (current.has(legacyKey)) return { writes: [], result: 'legacy' };
          const stored = current.get(headKey);
          const head = stored ? parseStored(headSchema, headKey, stored.value) : emptyHead();
          const recordRead = current.get(mailKey);
          const record = recordRead && parseStored(mailRecordSchema, mailKey, recordRead.value);
          const inHead = head.entries.find((e) => e.id === entry.id);
          if (!record && !inHead) {
            const writes = await this.withNewMessage(userId, head, stored?.etag ?? null, entry);
            writes.push({ key: mailKey, value: address ? sending : MAIL_DONE, etag: null });
            return { writes, result: { entry, added: true, mail: address ? 'claimed' : 'no-address' } };
          }
          // Known. An older message is no longer in the head: the same event makes the same text.
          const known = (mail: MailTurn): Outcome => ({ entry: inHead ?? entry, added: false, mail });
          if (!record || !recordRead || record.mail === 'done') return { writes: [], result: known('done') };
          if (record.mail === 'no-address') return { writes: [], result: known('no-address') };
          const age = now.getTime() - (record.claimedAt === null ? 0 : Date.parse(record.claimedAt));
          if (record.mail === 'sending' && age < leaseMs) return { writes: [], result: known('busy') };
          const etag = recordRead.etag;
          if (!address) return { writes: [{ key: mailKey, value: MAIL_DONE, etag }], result: known('address-lost') };
          return { writes: [{ key: mailKey, value: sending, etag }], result: known('claimed') };
        },
      );
      if (outcome !== 'legacy') return outcome;
      await this.migrate(userId);
    }
  }

  /**
   * The writes that put `entry` into the inbox: the head with it (conditioned on `headEtag`),
   * when the head overflows its oldest `segmentSize` messages as a new segment, and when the
   * inbox is then over its limit the deletion of its oldest segments with their mail records.
   */
  private async withNewMessage(
    userId: string,
    head: Head,
    headEtag: string | null,
    entry: InboxEntry,
  ): Promise<ConditionalWrite[]> {
    let entries = [entry, ...head.entries].sort(newestFirst);
    const segments = [...head.segments];
    const created = new Map<number, InboxEntry[]>();
    let nextSegment = head.nextSegment;
    if (entries.length > this.segmentSize) {
      const moved = entries.slice(entries.length - this.segmentSize);
      entries = entries.slice(0, entries.length - this.segmentSize);
      created.set(nextSegment, moved);
      segments.unshift(segmentInfo(nextSegment, moved));
      nextSegment += 1;
    }
    let total = entries.length + segments.reduce((sum, s) => sum + s.count, 0);
    const dropped: SegmentInfo[] = [];
    for (let oldest = segments.at(-1); total > this.inboxLimit && oldest; oldest = segments.at(-1)) {
      dropped.push(oldest);
      segments.pop();
      total -= oldest.count;
    }
    const writes: ConditionalWrite[] = [
      { key: NotificationStore.headKey(userId), value: { ...head, entries, segments, nextSegment }, etag: headEtag },
    ];
    for (const [n, moved] of created) {
      if (!dropped.some((s) => s.n === n)) {
        writes.push({ key: NotificationStore.segmentKey(userId, n), value: { entries: moved }, etag: null });
      }
    }
    if (dropped.length > 0) writes.push(...(await this.dropSegments(userId, dropped, created, entry.id)));
    return writes;
  }

  /**
   * Deletes segments over the limit and the mail records of their messages (a message that
   * left the inbox is forgotten, as it always was). Segments change only with their head, so
   * reading them here, after the head, is safe: the head's ETag fails the write if they moved.
   */
  private async dropSegments(
    userId: string,
    dropped: readonly SegmentInfo[],
    unwritten: ReadonlyMap<number, InboxEntry[]>,
    keepRecordOf: string,
  ): Promise<ConditionalWrite[]> {
    const stored = dropped.filter((s) => !unwritten.has(s.n)).map((s) => NotificationStore.segmentKey(userId, s.n));
    const segments = await this.state.read(storedValueSchema, stored);
    const writes: ConditionalWrite[] = [];
    const ids: string[] = [];
    for (const segment of dropped) {
      const fresh = unwritten.get(segment.n);
      if (fresh) {
        ids.push(...fresh.map((e) => e.id));
        continue;
      }
      const key = NotificationStore.segmentKey(userId, segment.n);
      const read = segments.get(key);
      if (!read) continue;
      ids.push(...parseStored(entriesSchema, key, read.value).entries.map((e) => e.id));
      writes.push({ key, delete: true, etag: read.etag });
    }
    const records = ids.filter((id) => id !== keepRecordOf).map(NotificationStore.mailKey);
    for (const [key, read] of await this.state.read(storedValueSchema, records)) {
      writes.push({ key, delete: true, etag: read.etag });
    }
    return writes;
  }

  /**
   * Moves an inbox of an older version (one `{entries}` document under the legacy key) into
   * head and segments, merged with what the head already holds: a replica of an older version
   * may have written the legacy key during a rolling update, after this inbox was moved. The
   * inbox is rebuilt whole (once per player, and once per such write): every message gets its
   * mail record (from the entry's legacy mail state, or done) unless it has one already (a mail
   * still to send), messages over the limit go with their mail records, and the legacy key is
   * deleted, all in one transaction conditioned on what was read.
   */
  private async migrate(userId: string): Promise<void> {
    const headKey = NotificationStore.headKey(userId);
    const legacyKey = NotificationStore.legacyInboxKey(userId);
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      // What the transaction must read: the segments and every message's mail record.
      const first = await this.state.read(storedValueSchema, [headKey, legacyKey]);
      const legacyRead = first.get(legacyKey);
      if (!legacyRead) return;
      const headRead = first.get(headKey);
      const head = headRead ? parseStored(headSchema, headKey, headRead.value) : emptyHead();
      const segmentKeys = head.segments.map((s) => NotificationStore.segmentKey(userId, s.n));
      const segmentsRead = await this.state.read(storedValueSchema, segmentKeys);
      const byId = new Map<string, InboxEntry>();
      for (const e of head.entries) byId.set(e.id, e);
      for (const [key, read] of segmentsRead) {
        for (const e of parseStored(entriesSchema, key, read.value).entries) byId.set(e.id, e);
      }
      const legacyIds = new Set(parseStored(entriesSchema, legacyKey, legacyRead.value).entries.map((e) => e.id));
      const mailKeys = [...new Set([...byId.keys(), ...legacyIds])].map(NotificationStore.mailKey);
      const migrated = await this.state.mutate(
        storedValueSchema,
        [headKey, legacyKey, ...segmentKeys, ...mailKeys],
        (current) => {
          const legacy = current.get(legacyKey);
          if (!legacy) return { writes: [], result: true };
          // Segments change only with their head: an unchanged head means unchanged segments.
          if ((current.get(headKey)?.etag ?? null) !== (headRead?.etag ?? null)) return { writes: [], result: false };
          const legacyEntries = parseStored(entriesSchema, legacyKey, legacy.value).entries;
          // Changed since the first read (an older replica): read its mail records too.
          if (legacyEntries.some((e) => !legacyIds.has(e.id))) return { writes: [], result: false };
          const writes: ConditionalWrite[] = [{ key: legacyKey, delete: true, etag: legacy.etag }];
          const all = new Map(byId);
          for (const e of legacyEntries) {
            if (all.has(e.id)) continue;
            all.set(e.id, withoutLegacyMail(e));
            const key = NotificationStore.mailKey(e.id);
            if (!current.has(key)) writes.push({ key, value: legacyMailRecord(e), etag: null });
          }
          const sorted = [...all.values()].sort(newestFirst);
          for (const e of sorted.slice(this.inboxLimit)) {
            const record = current.get(NotificationStore.mailKey(e.id));
            if (record) writes.push({ key: NotificationStore.mailKey(e.id), delete: true, etag: record.etag });
          }
          const entries = sorted.slice(0, this.inboxLimit);
          const headEntries = entries.slice(0, this.segmentSize);
          const older = entries.slice(this.segmentSize);
          const chunks: InboxEntry[][] = [];
          for (let at = 0; at < older.length; at += this.segmentSize)
            chunks.push(older.slice(at, at + this.segmentSize));
          // New numbers (a segment key is written once), the oldest lowest.
          const numberOf = (index: number) => head.nextSegment + chunks.length - 1 - index;
          const segments = chunks.map((chunk, index) => segmentInfo(numberOf(index), chunk));
          chunks.forEach((chunk, index) =>
            writes.push({
              key: NotificationStore.segmentKey(userId, numberOf(index)),
              value: { entries: chunk },
              etag: null,
            }),
          );
          for (const key of segmentKeys) {
            const read = current.get(key);
            if (read) writes.push({ key, delete: true, etag: read.etag });
          }
          const rebuilt: Head = {
            version: 2,
            entries: headEntries,
            segments,
            nextSegment: head.nextSegment + chunks.length,
          };
          writes.push({ key: headKey, value: rebuilt, etag: headRead?.etag ?? null });
          return { writes, result: true };
        },
      );
      if (migrated) return;
    }
    throw new ContentionError([headKey, legacyKey], 10);
  }

  /** The claimed mail went out: nothing is left to send (only this delivery holds the claim). */
  async mailSent(id: string): Promise<void> {
    await this.state.saveUnconditionally(NotificationStore.mailKey(id), MAIL_DONE);
  }

  /** The claimed mail could not be sent: give the claim back so the redelivery sends it at once. */
  async mailFailed(id: string): Promise<void> {
    const pending: MailRecord = { mail: 'pending', claimedAt: null };
    await this.state.saveUnconditionally(NotificationStore.mailKey(id), pending);
  }

  /** The stored segments `wanted` of a head (a segment dropped meanwhile is absent). */
  private async segments(
    userId: string,
    wanted: readonly SegmentInfo[],
  ): Promise<Map<number, Versioned<InboxEntry[]>>> {
    const read = await this.state.read(
      storedValueSchema,
      wanted.map((s) => NotificationStore.segmentKey(userId, s.n)),
    );
    const found = new Map<number, Versioned<InboxEntry[]>>();
    for (const segment of wanted) {
      const key = NotificationStore.segmentKey(userId, segment.n);
      const stored = read.get(key);
      if (stored)
        found.set(segment.n, { value: parseStored(entriesSchema, key, stored.value).entries, etag: stored.etag });
    }
    return found;
  }

  /**
   * A page, newest first, after `after`: the head, then only the segments that can hold one of
   * its messages (each segment's newest and oldest are in the head). unreadCount from the
   * head's counters.
   */
  async page(userId: string, limit: number, after: PageCursor | undefined) {
    const headKey = NotificationStore.headKey(userId);
    const legacyKey = NotificationStore.legacyInboxKey(userId);
    const stored = await this.state.read(storedValueSchema, [headKey, legacyKey]);
    const headRead = stored.get(headKey);
    const head = headRead ? parseStored(headSchema, headKey, headRead.value) : emptyHead();
    // An inbox not moved yet, or what a replica of an older version wrote since: shown with the head.
    const legacyRead = stored.get(legacyKey);
    if (legacyRead) {
      const known = new Set(head.entries.map((e) => e.id));
      const legacy = parseStored(entriesSchema, legacyKey, legacyRead.value).entries.filter((e) => !known.has(e.id));
      head.entries = [...head.entries, ...legacy];
    }
    const isAfter = (e: PageCursor) => !after || newestFirst(e, after) > 0;
    let loaded = head.entries.filter(isAfter).sort(newestFirst);
    const left = head.segments.filter((s) => isAfter(s.oldest));
    for (;;) {
      const next = left.reduce<SegmentInfo | undefined>(
        (newest, s) => (!newest || newestFirst(s.newest, newest.newest) < 0 ? s : newest),
        undefined,
      );
      const boundary = loaded[limit];
      // Enough: one more than the page, all newer than anything in the segments not read.
      if (!next || (boundary && newestFirst(boundary, next.newest) < 0)) break;
      left.splice(left.indexOf(next), 1);
      const segment = (await this.segments(userId, [next])).get(next.n)?.value ?? [];
      loaded = [...loaded, ...segment.filter(isAfter)].sort(newestFirst);
    }
    const items = loaded.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      unreadCount: unreadIn(head.entries) + head.segments.reduce((sum, s) => sum + s.unread, 0),
      next: loaded.length > limit && last ? cursorOf(last) : undefined,
    };
  }

  /** Marks one message read (kept as first read); 404 when the inbox has no such message. */
  async markRead(userId: string, id: string, at: Date): Promise<InboxEntry> {
    const readAt = at.toISOString();
    return this.update(userId, async (head, headEtag) => {
      const headKey = NotificationStore.headKey(userId);
      const inHead = head.entries.find((e) => e.id === id);
      if (inHead) {
        if (inHead.readAt !== null) return { writes: [], result: inHead };
        const read = { ...inHead, readAt };
        const entries = head.entries.map((e) => (e.id === id ? read : e));
        return { writes: [{ key: headKey, value: { ...head, entries }, etag: headEtag }], result: read };
      }
      const stored = await this.segments(userId, head.segments);
      for (const segment of head.segments) {
        const found = stored.get(segment.n);
        const entry = found?.value.find((e) => e.id === id);
        if (!found || !entry) continue;
        if (entry.readAt !== null) return { writes: [], result: entry };
        const read = { ...entry, readAt };
        const entries = found.value.map((e) => (e.id === id ? read : e));
        const segments = head.segments.map((s) => (s.n === segment.n ? { ...s, unread: unreadIn(entries) } : s));
        return {
          writes: [
            { key: NotificationStore.segmentKey(userId, segment.n), value: { entries }, etag: found.etag },
            { key: headKey, value: { ...head, segments }, etag: headEtag },
          ],
          result: read,
        };
      }
      throw AppError.notFound(`no notification ${id}`);
    });
  }

  async markAllRead(userId: string, at: Date): Promise<number> {
    const readAt = at.toISOString();
    const markAll = (entries: readonly InboxEntry[]) => entries.map((e) => (e.readAt === null ? { ...e, readAt } : e));
    return this.update(userId, async (head, headEtag) => {
      const unreadSegments = head.segments.filter((s) => s.unread > 0);
      const stored = await this.segments(userId, unreadSegments);
      let marked = unreadIn(head.entries);
      const writes: ConditionalWrite[] = [];
      for (const [n, segment] of stored) {
        marked += unreadIn(segment.value);
        writes.push({
          key: NotificationStore.segmentKey(userId, n),
          value: { entries: markAll(segment.value) },
          etag: segment.etag,
        });
      }
      if (marked === 0) return { writes: [], result: 0 };
      const segments = head.segments.map((s) => ({ ...s, unread: 0 }));
      writes.unshift({
        key: NotificationStore.headKey(userId),
        value: { ...head, entries: markAll(head.entries), segments },
        etag: headEtag,
      });
      return { writes, result: marked };
    });
  }

  /** Read-plan-write of one inbox's head (an older version's inbox is migrated first). */
  private async update<R>(
    userId: string,
    plan: (head: Head, headEtag: string | null) => Promise<MutationPlan<R>>,
  ): Promise<R> {
    const headKey = NotificationStore.headKey(userId);
    const legacyKey = NotificationStore.legacyInboxKey(userId);
    for (;;) {
      const outcome = await this.state.mutate<z.ZodUnknown, { done: R } | 'legacy'>(
        storedValueSchema,
        [headKey, legacyKey],
        async (current) => {
          if (current.has(legacyKey)) return { writes: [], result: 'legacy' };
          const stored = current.get(headKey);
          const head = stored ? parseStored(headSchema, headKey, stored.value) : emptyHead();
          const { writes, result } = await plan(head, stored?.etag ?? null);
          return { writes, result: { done: result } };
        },
      );
      if (outcome !== 'legacy') return outcome.done;
      await this.migrate(userId);
    }
  }
}
