/**
 * Dead letters of one service in the Dapr state store:
 *  - `dead-letters:<service>:entry:<id>`: the original CloudEvent, its topic, first/last seen
 *    and how often it arrived;
 *  - `dead-letters:<service>:index`: every id with its topic and first-seen time, for listing
 *    without a state query (which most state stores lack).
 * Entry and index change together in one ETag-checked transaction, so concurrent arrivals,
 * replays and discards never lose or resurrect each other's changes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors';
import { OptimisticState, type ConditionalWrite, type Versioned } from '../optimistic-state';
import type { DeadLetter, ReplayOutcome } from './api';

const indexEntrySchema = z.object({ id: z.string(), topic: z.string(), firstSeenAt: z.string() });
type IndexEntry = z.infer<typeof indexEntrySchema>;

const storedSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('dead-letter'),
    id: z.string(),
    eventId: z.string(),
    topic: z.string(),
    event: z.record(z.string(), z.unknown()),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    deliveryCount: z.number().int().positive(),
  }),
  z.object({ kind: z.literal('dead-letter-index'), entries: z.array(indexEntrySchema) }),
]);
type Stored = z.infer<typeof storedSchema>;
type StoredDeadLetter = Extract<Stored, { kind: 'dead-letter' }>;

/** The dead-letter id: stable for one event on one topic, so a redelivery is the same dead letter. */
export function deadLetterId(topic: string, eventId: string): string {
  return createHash('sha256').update(topic).update('\0').update(eventId).digest('base64url').slice(0, 22);
}

/** The index is full: the dead letter stays in the broker (Dapr redelivers) instead of being lost. */
export class DeadLetterStoreFullError extends AppError {
  constructor(limit: number) {
    super(503, {
      code: 'dead-letters-full',
      detail: `the dead-letter store holds its limit of ${limit}; replay or discard some`,
    });
  }
}

export interface ListOptions {
  topic?: string | undefined;
  limit: number;
  /** from a previous page's `nextCursor` */
  after?: { firstSeenAt: string; id: string } | undefined;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  total: number;
  next: { firstSeenAt: string; id: string } | undefined;
}

/** Newest first; ties (same millisecond) by id so the order, and the cursor, are total. */
const newestFirst = (a: IndexEntry, b: IndexEntry) =>
  a.firstSeenAt === b.firstSeenAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.firstSeenAt < b.firstSeenAt ? 1 : -1;

export class DeadLetterStore {
  private readonly indexKey: string;
  private readonly prefix: string;

  constructor(
    private readonly state: OptimisticState,
    service: string,
    private readonly maxEntries: number,
  ) {
    this.prefix = `dead-letters:${service}`;
    this.indexKey = `${this.prefix}:index`;
  }

  private entryKey(id: string) {
    return `${this.prefix}:entry:${id}`;
  }

  private static index(
    current: Map<string, Versioned<Stored>>,
    key: string,
  ): { entries: IndexEntry[]; etag: string | null } {
    const found = current.get(key);
    return found?.value.kind === 'dead-letter-index'
      ? { entries: found.value.entries, etag: found.etag }
      : { entries: [], etag: null };
  }

  private static entry(current: Map<string, Versioned<Stored>>, key: string): Versioned<StoredDeadLetter> | undefined {
    const found = current.get(key);
    return found?.value.kind === 'dead-letter' ? { value: found.value, etag: found.etag } : undefined;
  }

  /** Stores a dead letter, or counts one more arrival of a known one. */
  async record(
    topic: string,
    eventId: string,
    event: Record<string, unknown>,
    now: Date,
  ): Promise<{ id: string; firstTime: boolean }> {
    const id = deadLetterId(topic, eventId);
    const entryKey = this.entryKey(id);
    const seenAt = now.toISOString();
    return this.state.mutate(storedSchema, [entryKey, this.indexKey], (current) => {
      const existing = DeadLetterStore.entry(current, entryKey);
      const index = DeadLetterStore.index(current, this.indexKey);
      const writes: ConditionalWrite[] = [];
      const stored: StoredDeadLetter = existing
        ? { ...existing.value, event, lastSeenAt: seenAt, deliveryCount: existing.value.deliveryCount + 1 }
        : { kind: 'dead-letter', id, eventId, topic, event, firstSeenAt: seenAt, lastSeenAt: seenAt, deliveryCount: 1 };
      writes.push({ key: entryKey, value: stored, etag: existing?.etag ?? null });
      // The index is written even when it already lists the id: its ETag is what detects a
      // replay or discard that removed the dead letter meanwhile (Redis accepts an ETag on a
      // key that no longer exists, so the entry's own ETag cannot).
      let entries = index.entries;
      if (!entries.some((e) => e.id === id)) {
        if (entries.length >= this.maxEntries) throw new DeadLetterStoreFullError(this.maxEntries);
        entries = [...entries, { id, topic, firstSeenAt: stored.firstSeenAt }];
      }
      writes.push({ key: this.indexKey, value: { kind: 'dead-letter-index', entries }, etag: index.etag });
      return { writes, result: { id, firstTime: existing === undefined } };
    });
  }

  async get(id: string): Promise<Versioned<DeadLetter> | undefined> {
    const found = DeadLetterStore.entry(await this.state.read(storedSchema, [this.entryKey(id)]), this.entryKey(id));
    return found ? { value: toDeadLetter(found.value), etag: found.etag } : undefined;
  }

  /** Ids of the matching dead letters, oldest first (replay order). */
  async ids(topic?: string): Promise<string[]> {
    const index = DeadLetterStore.index(await this.state.read(storedSchema, [this.indexKey]), this.indexKey);
    return index.entries
      .filter((e) => topic === undefined || e.topic === topic)
      .sort(newestFirst)
      .reverse()
      .map((e) => e.id);
  }

  async list(options: ListOptions): Promise<DeadLetterPage> {
    const index = DeadLetterStore.index(await this.state.read(storedSchema, [this.indexKey]), this.indexKey);
    const matching = index.entries
      .filter((e) => options.topic === undefined || e.topic === options.topic)
      .sort(newestFirst);
    const after = options.after;
    const start = after ? matching.findIndex((e) => newestFirst(e, { ...after, topic: e.topic }) > 0) : 0;
    const page = start < 0 ? [] : matching.slice(start, start + options.limit);
    const values = await this.state.read(
      storedSchema,
      page.map((e) => this.entryKey(e.id)),
    );
    const items = page.flatMap((e) => {
      const found = DeadLetterStore.entry(values, this.entryKey(e.id));
      // An index entry whose dead letter was removed between the two reads is skipped.
      return found ? [toDeadLetter(found.value)] : [];
    });
    const last = page.at(-1);
    const hasMore = start >= 0 && start + options.limit < matching.length;
    return {
      items,
      total: matching.length,
      next: hasMore && last ? { firstSeenAt: last.firstSeenAt, id: last.id } : undefined,
    };
  }

  /**
   * Removes a dead letter. With `expectedEtag` (a replay) only the version that was replayed
   * is removed: if it arrived again meanwhile, the new failure stays listed.
   */
  async remove(id: string, expectedEtag?: string): Promise<ReplayOutcome> {
    const entryKey = this.entryKey(id);
    return this.state.mutate(storedSchema, [entryKey, this.indexKey], (current) => {
      const existing = DeadLetterStore.entry(current, entryKey);
      const index = DeadLetterStore.index(current, this.indexKey);
      const writes: ConditionalWrite[] = [];
      const outcome: ReplayOutcome = !existing
        ? 'already-gone'
        : expectedEtag !== undefined && existing.etag !== expectedEtag
          ? 'dead-lettered-again'
          : 'replayed';
      if (outcome === 'dead-lettered-again') return { writes, result: outcome };
      if (existing) writes.push({ key: entryKey, delete: true, etag: existing.etag });
      if (index.etag !== null && index.entries.some((e) => e.id === id)) {
        const entries = index.entries.filter((e) => e.id !== id);
        writes.push({ key: this.indexKey, value: { kind: 'dead-letter-index', entries }, etag: index.etag });
      }
      return { writes, result: outcome };
    });
  }
}

function toDeadLetter(stored: StoredDeadLetter): DeadLetter {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    id: stored.id,
    eventId: stored.eventId,
    topic: stored.topic,
    type: text(stored.event.type),
    source: text(stored.event.source),
    firstSeenAt: stored.firstSeenAt,
    lastSeenAt: stored.lastSeenAt,
    deliveryCount: stored.deliveryCount,
    event: stored.event,
  };
}
