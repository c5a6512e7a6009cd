/**
 * Dead letters of one service in the Dapr state store:
 *  - `dead-letters:<service>:entry:<id>`: the original CloudEvent, its topic, first/last seen
 *    and how often it arrived;
 *  - `dead-letters:<service>:index`: every id with its topic and first-seen time, for listing
 *    without a state query (which most state stores lack).
 * Entry and index change together in one ETag-checked transaction, so concurrent arrivals,
 * replays and discards never lose or resurrect each other's changes.
 *
 * A replayed, discarded or reconciled dead letter is kept as resolved (docs/decisions/0781):
 * a retried replay or discard answers as the first did instead of running again, and a dead
 * letter that fails again after a replay reopens with its history. The oldest resolved ones
 * are forgotten beyond `maxResolved`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors';
import { OptimisticState, type ConditionalWrite, type MutationPlan, type Versioned } from '../optimistic-state';
import type { DeadLetter, ReplayOutcome } from './api';

const indexEntrySchema = z.object({
  id: z.string(),
  topic: z.string(),
  firstSeenAt: z.string(),
  /** absent in indexes written before resolution was kept: open */
  resolvedAt: z.string().optional(),
});
type IndexEntry = z.infer<typeof indexEntrySchema>;

const historyEventSchema = z.object({
  at: z.string(),
  what: z.enum(['failed', 'replayed', 'discarded', 'reconciled']),
  /** failed: the arrivals of this failure; reconciled: why */
  count: z.number().int().positive().optional(),
  note: z.string().optional(),
});
/** Only the most recent changes are kept in the history. */
export const HISTORY_LIMIT = 20;
/** A replay claim older than this is taken to have died with its process and may be claimed again. */
export const REPLAY_CLAIM_TTL_MS = 60_000;

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
    /** open; replaying (claimed by a replay in progress); resolved (replayed, discarded or reconciled) */
    status: z.enum(['open', 'replaying', 'resolved']).default('open'),
    claim: z.object({ id: z.string(), at: z.string(), deliveryCount: z.number().int() }).optional(),
    resolution: z.enum(['replayed', 'discarded', 'reconciled']).optional(),
    resolvedAt: z.string().optional(),
    replayedAt: z.string().optional(),
    history: z.array(historyEventSchema).default([]),
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

export type StatusFilter = 'open' | 'resolved' | 'all';

export interface ListOptions {
  topic?: string | undefined;
  /** default open (what still needs an admin) */
  status?: StatusFilter | undefined;
  limit: number;
  /** from a previous page's `nextCursor` */
  after?: { firstSeenAt: string; id: string } | undefined;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  total: number;
  next: { firstSeenAt: string; id: string } | undefined;
}

const matchesStatus = (entry: IndexEntry, status: StatusFilter) =>
  status === 'all' || (status === 'resolved') === (entry.resolvedAt !== undefined);

const pushHistory = (history: StoredDeadLetter['history'], event: StoredDeadLetter['history'][number]) =>
  [...history, event].slice(-HISTORY_LIMIT);

/** The result of a replay claim: what to publish, or why not. */
export type ReplayClaim =
  | { claimed: true; claimId: string; deadLetter: DeadLetter }
  | { claimed: false; reason: 'unknown' }
  | { claimed: false; reason: 'in-progress' | 'resolved'; deadLetter: DeadLetter };

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
    private readonly maxResolved = 1_000,
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
      let stored: StoredDeadLetter;
      if (existing) {
        // Again, after a replay (or a discard): the same dead letter reopens with its history.
        const previous = existing.value;
        const last = previous.history.at(-1);
        const history =
          previous.status === 'open' && last?.what === 'failed'
            ? [...previous.history.slice(0, -1), { ...last, count: (last.count ?? 1) + 1 }]
            : pushHistory(previous.history, { at: seenAt, what: 'failed', count: 1 });
        stored = {
          ...previous,
          event,
          lastSeenAt: seenAt,
          deliveryCount: previous.deliveryCount + 1,
          // A replay in progress keeps its claim: its end sees the arrival and reports dead-lettered-again.
          status: previous.status === 'replaying' ? 'replaying' : 'open',
          resolution: undefined,
          resolvedAt: undefined,
          history,
        };
      } else {
        stored = {
          kind: 'dead-letter',
          id,
          eventId,
          topic,
          event,
          firstSeenAt: seenAt,
          lastSeenAt: seenAt,
          deliveryCount: 1,
          status: 'open',
          history: [{ at: seenAt, what: 'failed', count: 1 }],
        };
      }
      writes.push({ key: entryKey, value: stored, etag: existing?.etag ?? null });
      // The index is written even when it already lists the id: its ETag is what detects a
      // replay or discard that changed the dead letter meanwhile (Redis accepts an ETag on a
      // key that no longer exists, so the entry's own ETag cannot).
      let entries = index.entries;
      const listed = entries.find((e) => e.id === id);
      if (!listed) {
        const open = entries.filter((e) => e.resolvedAt === undefined).length;
        if (open >= this.maxEntries) throw new DeadLetterStoreFullError(this.maxEntries);
        entries = [...entries, { id, topic, firstSeenAt: stored.firstSeenAt }];
      } else if (listed.resolvedAt !== undefined) {
        entries = entries.map((e) => (e.id === id ? { id, topic, firstSeenAt: e.firstSeenAt } : e));
      }
      writes.push({ key: this.indexKey, value: { kind: 'dead-letter-index', entries }, etag: index.etag });
      return { writes, result: { id, firstTime: existing === undefined } };
    });
  }

  async get(id: string): Promise<Versioned<DeadLetter> | undefined> {
    const found = DeadLetterStore.entry(await this.state.read(storedSchema, [this.entryKey(id)]), this.entryKey(id));
    return found ? { value: toDeadLetter(found.value), etag: found.etag } : undefined;
  }

  /** Ids of the matching open dead letters (replaying ones included), oldest first (replay order). */
  async ids(topic?: string): Promise<string[]> {
    const index = DeadLetterStore.index(await this.state.read(storedSchema, [this.indexKey]), this.indexKey);
    return index.entries
      .filter((e) => (topic === undefined || e.topic === topic) && matchesStatus(e, 'open'))
      .sort(newestFirst)
      .reverse()
      .map((e) => e.id);
  }

  async list(options: ListOptions): Promise<DeadLetterPage> {
    const status = options.status ?? 'open';
    const index = DeadLetterStore.index(await this.state.read(storedSchema, [this.indexKey]), this.indexKey);
    const matching = index.entries
      .filter((e) => (options.topic === undefined || e.topic === options.topic) && matchesStatus(e, status))
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
   * Claims an open dead letter for one replay, so a second request (a retry after a timeout,
   * or another admin) never publishes it again while the first runs or after it succeeded.
   */
  async claimReplay(id: string, now: Date): Promise<ReplayClaim> {
    const entryKey = this.entryKey(id);
    return this.state.mutate(storedSchema, [entryKey, this.indexKey], (current): MutationPlan<ReplayClaim> => {
      const existing = DeadLetterStore.entry(current, entryKey);
      const index = DeadLetterStore.index(current, this.indexKey);
      if (!existing) return { writes: [], result: { claimed: false, reason: 'unknown' } };
      const stored = existing.value;
      if (stored.status === 'resolved')
        return { writes: [], result: { claimed: false, reason: 'resolved', deadLetter: toDeadLetter(stored) } };
      const claimAge = stored.claim ? now.getTime() - Date.parse(stored.claim.at) : Infinity;
      if (stored.status === 'replaying' && claimAge < REPLAY_CLAIM_TTL_MS)
        return { writes: [], result: { claimed: false, reason: 'in-progress', deadLetter: toDeadLetter(stored) } };
      const claimId = randomUUID();
      const claimed: StoredDeadLetter = {
        ...stored,
        status: 'replaying',
        claim: { id: claimId, at: now.toISOString(), deliveryCount: stored.deliveryCount },
      };
      return {
        writes: [
          { key: entryKey, value: claimed, etag: existing.etag },
          // the index's ETag notices a concurrent arrival or discard (see record)
          { key: this.indexKey, value: { kind: 'dead-letter-index', entries: index.entries }, etag: index.etag },
        ],
        result: { claimed: true, claimId, deadLetter: toDeadLetter(claimed) },
      };
    });
  }

  /**
   * After the claimed replay was published: resolved, unless the dead letter arrived again
   * meanwhile (the replay failed again), which keeps it open with the replay in its history.
   * `published: false` gives the claim back (the publish failed; nothing was replayed).
   */
  async finishReplay(id: string, claimId: string, published: boolean, now: Date): Promise<ReplayOutcome> {
    const entryKey = this.entryKey(id);
    const at = now.toISOString();
    let evicted: string[] = [];
    const outcome = await this.state.mutate(storedSchema, [entryKey, this.indexKey], (current) => {
      const existing = DeadLetterStore.entry(current, entryKey);
      const index = DeadLetterStore.index(current, this.indexKey);
      evicted = [];
      if (!existing || existing.value.claim?.id !== claimId) {
        return { writes: [], result: existing ? ('dead-lettered-again' as const) : ('already-gone' as const) };
      }
      const stored = existing.value;
      const claimedAt = stored.claim?.at ?? at;
      const arrivedAgain = stored.deliveryCount > (stored.claim?.deliveryCount ?? stored.deliveryCount);
      const base = { ...stored, claim: undefined };
      if (!published) {
        return {
          writes: [
            { key: entryKey, value: { ...base, status: 'open' }, etag: existing.etag },
            { key: this.indexKey, value: { kind: 'dead-letter-index', entries: index.entries }, etag: index.etag },
          ],
          result: 'already-gone' as const,
        };
      }
      // The replay happened when it was claimed: before any failure it caused.
      const history = [...stored.history, { at: claimedAt, what: 'replayed' as const }]
        .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
        .slice(-HISTORY_LIMIT);
      if (arrivedAgain) {
        return {
          writes: [
            { key: entryKey, value: { ...base, status: 'open', replayedAt: claimedAt, history }, etag: existing.etag },
            { key: this.indexKey, value: { kind: 'dead-letter-index', entries: index.entries }, etag: index.etag },
          ],
          result: 'dead-lettered-again' as const,
        };
      }
      const resolved: StoredDeadLetter = {
        ...base,
        status: 'resolved',
        resolution: 'replayed',
        resolvedAt: at,
        replayedAt: claimedAt,
        history,
      };
      const plan = this.resolveInIndex(index.entries, id, at);
      evicted = plan.evicted;
      return {
        writes: [
          { key: entryKey, value: resolved, etag: existing.etag },
          { key: this.indexKey, value: { kind: 'dead-letter-index', entries: plan.entries }, etag: index.etag },
        ],
        result: 'replayed' as const,
      };
    });
    await this.forget(evicted);
    return outcome;
  }

  /**
   * Resolves an open dead letter without replaying it: discarded by an admin, or reconciled
   * (what it stood for happened after all, e.g. another app's replay scored the attempt).
   * 'unknown' when there is no such dead letter, 'already-resolved' when it was resolved before.
   */
  async resolve(
    id: string,
    how: 'discarded' | 'reconciled',
    now: Date,
    note?: string,
  ): Promise<'resolved' | 'already-resolved' | 'unknown'> {
    const entryKey = this.entryKey(id);
    const at = now.toISOString();
    let evicted: string[] = [];
    const outcome = await this.state.mutate(storedSchema, [entryKey, this.indexKey], (current) => {
      const existing = DeadLetterStore.entry(current, entryKey);
      const index = DeadLetterStore.index(current, this.indexKey);
      evicted = [];
      if (!existing) return { writes: [], result: 'unknown' as const };
      if (existing.value.status === 'resolved') return { writes: [], result: 'already-resolved' as const };
      const resolved: StoredDeadLetter = {
        ...existing.value,
        status: 'resolved',
        claim: undefined,
        resolution: how,
        resolvedAt: at,
        history: pushHistory(existing.value.history, { at, what: how, ...(note === undefined ? {} : { note }) }),
      };
      const plan = this.resolveInIndex(index.entries, id, at);
      evicted = plan.evicted;
      return {
        writes: [
          { key: entryKey, value: resolved, etag: existing.etag },
          { key: this.indexKey, value: { kind: 'dead-letter-index', entries: plan.entries }, etag: index.etag },
        ],
        result: 'resolved' as const,
      };
    });
    await this.forget(evicted);
    return outcome;
  }

  /** Marks `id` resolved in the index and drops the oldest resolved entries beyond `maxResolved`. */
  private resolveInIndex(entries: IndexEntry[], id: string, at: string): { entries: IndexEntry[]; evicted: string[] } {
    const updated = entries.map((e) => (e.id === id ? { ...e, resolvedAt: at } : e));
    const resolved = updated
      .filter((e) => e.resolvedAt !== undefined)
      .sort((a, b) => ((a.resolvedAt ?? '') < (b.resolvedAt ?? '') ? -1 : 1));
    const evicted = new Set(resolved.slice(0, Math.max(0, resolved.length - this.maxResolved)).map((e) => e.id));
    return { entries: updated.filter((e) => !evicted.has(e.id)), evicted: [...evicted] };
  }

  /**
   * Deletes entries no longer in the index. Best effort after the index committed: a key left
   * behind by a crash is listed nowhere and is overwritten if the same event fails again.
   */
  private async forget(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.state.deleteKey(this.entryKey(id));
  }

  /** Removes every dead letter of this service, resolved ones included (tests clean up with it). */
  async clear(): Promise<void> {
    const index = DeadLetterStore.index(await this.state.read(storedSchema, [this.indexKey]), this.indexKey);
    await this.forget(index.entries.map((e) => e.id));
    await this.state.deleteKey(this.indexKey);
  }
}

function toDeadLetter(stored: StoredDeadLetter): DeadLetter {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    status: stored.status,
    resolution: stored.resolution ?? null,
    resolvedAt: stored.resolvedAt ?? null,
    replayedAt: stored.replayedAt ?? null,
    history: stored.history,
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
