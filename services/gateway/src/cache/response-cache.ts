/**
 * The gateway's shared cache of upstream answers (decision 1000): answers of the operations the
 * registry declares `gatewayCache` (the quiz player view), the same for every caller, kept in
 * this process and served without the three hops behind the gateway (its sidecar, the service's
 * sidecar, the service). Authorisation and rate limits still run first (forward.ts).
 *
 * What is kept: a 200 the service marked with `SHARED_CACHE_HEADER`, with no `Set-Cookie`, no
 * `Vary`, no `private` or `no-store`, with a Content-Length of at most MAX_ANSWER_BYTES; only its representation
 * headers (content type, ETag, Cache-Control) and its bytes. For at most the service's `max-age`
 * and `maxAgeMs` (the bound on staleness if every purge were lost); at most `maxEntries` answers
 * and `maxBytes` of bodies, the least recently stored evicted first.
 *
 * What drops it: `purge(key)`, on an event that names the key (every replica receives it) or on
 * a change made through this replica. A fill is not kept if its key was purged while it was
 * on its way, or less than `settleMs` before it was sent: the event that purged it reaches the
 * service's replicas at about the same time as this one, and one of them may still answer from
 * its own copy for a moment.
 */
import { SHARED_CACHE_HEADER, ifNoneMatchHas } from '@quizmesh/platform';

type Headers = Record<string, string | string[] | undefined>;

/** The representation headers a kept answer is served with (never per-request ones: ids, dates, cookies). */
const KEPT_HEADERS = ['content-type', 'etag', 'cache-control'] as const;

export interface KeptAnswer {
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
  etag: string | undefined;
}

interface Entry extends KeptAnswer {
  key: string;
  storedAt: number;
  expiresAt: number;
}

/** A fill in flight: when its request was sent, and the purges seen until then. */
export interface FillToken {
  key: string;
  startedAt: number;
  purgesSeen: number;
}

export interface ResponseCacheOptions {
  /** at most this many answers are kept; the least recently stored goes first */
  maxEntries: number;
  /** no answer is kept longer, whatever the service allows */
  maxAgeMs: number;
  /** after a purge, answers for its key are passed on but not kept for this long */
  settleMs: number;
  /** the bodies kept add up to at most this many bytes */
  maxBytes: number;
  /** injectable for tests */
  now?: () => number;
}

/** A fill older than this is never kept: its purge records may be gone. */
const MAX_FILL_MS = 60_000;

/** A larger answer is never kept (a player view is a few KiB). */
export const MAX_ANSWER_BYTES = 256 * 1024;

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  /** per key, the time and sequence number of its last purge (kept for settleMs + MAX_FILL_MS) */
  private readonly purges = new Map<string, { at: number; seq: number }>();
  private purgeSeq = 0;
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The kept answer for `path`, if any and not expired. */
  get(path: string): (KeptAnswer & { ageS: number }) | undefined {
    const entry = this.entries.get(path);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.drop(path, entry);
      return undefined;
    }
    return {
      headers: entry.headers,
      body: entry.body,
      etag: entry.etag,
      ageS: Math.floor((now - entry.storedAt) / 1000),
    };
  }

  /** Call before forwarding a request whose answer may be kept; pass the token to `store`. */
  startFill(key: string): FillToken {
    return { key: sameKey(key), startedAt: this.now(), purgesSeen: this.purgeSeq };
  }

  /** Whether an answer with this status and these headers may be kept (before its body is read). */
  accepts(status: number, headers: Headers): boolean {
    if (status !== 200 || this.options.maxEntries === 0) return false;
    if (sharedMaxAgeS(headers) === undefined) return false;
    if (headers['set-cookie'] !== undefined || headers.vary !== undefined) return false;
    if (/\b(private|no-store)\b/i.test(String(headers['cache-control'] ?? ''))) return false;
    // A declared length only: the body is read whole before it is sent, so its size must be known first.
    const declared = headers['content-length'];
    const length = typeof declared === 'string' && /^\d+$/.test(declared) ? Number(declared) : Infinity;
    return length <= this.maxAnswerBytes();
  }

  /** Keeps the answer for `path` unless its key was purged since (or just before) `token`. */
  store(path: string, token: FillToken, headers: Headers, body: Buffer): boolean {
    const now = this.now();
    const purge = this.purges.get(token.key);
    const raced = purge !== undefined && purge.seq > token.purgesSeen;
    const settling = purge !== undefined && token.startedAt < purge.at + this.options.settleMs;
    const maxAgeS = sharedMaxAgeS(headers);
    if (raced || settling || maxAgeS === undefined || now - token.startedAt > MAX_FILL_MS) return false;
    if (body.length > this.maxAnswerBytes()) return false;
    const kept: Array<readonly [string, string]> = [];
    for (const name of KEPT_HEADERS) {
      const value = headers[name];
      if (typeof value === 'string') kept.push([name, value]);
    }
    const previous = this.entries.get(path);
    if (previous) this.drop(path, previous);
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size < this.options.maxEntries && this.bytes + body.length <= this.options.maxBytes) break;
      this.drop(oldest, entry);
    }
    this.bytes += body.length;
    const etag = headers.etag;
    this.entries.set(path, {
      key: token.key,
      headers: kept,
      body,
      etag: typeof etag === 'string' ? etag : undefined,
      storedAt: now,
      expiresAt: now + Math.min(this.options.maxAgeMs, maxAgeS * 1000),
    });
    return true;
  }

  /** Drops every answer kept for `key`, and keeps answers for it from being stored for a while. */
  purge(named: string): void {
    const key = sameKey(named);
    const now = this.now();
    this.purgeSeq += 1;
    this.purges.delete(key);
    this.purges.set(key, { at: now, seq: this.purgeSeq });
    for (const [path, entry] of this.entries) if (entry.key === key) this.drop(path, entry);
    // Oldest first (insertion order): forget purges no fill can still be affected by.
    for (const [old, { at }] of this.purges) {
      if (at + this.options.settleMs + MAX_FILL_MS > now) break;
      this.purges.delete(old);
    }
  }

  private drop(path: string, entry: Entry): void {
    this.entries.delete(path);
    this.bytes -= entry.body.length;
  }

  private maxAnswerBytes(): number {
    return Math.min(MAX_ANSWER_BYTES, this.options.maxBytes);
  }
}

/**
 * Keys are ids (UUIDs), which a path may spell in upper case while events name them in lower
 * case: both are compared in lower case, so no spelling of a path escapes a purge.
 */
const sameKey = (key: string) => key.toLowerCase();

/** The `max-age` of the service's mark, when it marked the answer at all. */
export function sharedMaxAgeS(headers: Headers): number | undefined {
  const mark = headers[SHARED_CACHE_HEADER];
  if (typeof mark !== 'string') return undefined;
  const match = /(?:^|,)\s*max-age=(\d+)\s*(?:,|$)/i.exec(mark);
  const seconds = match ? Number(match[1]) : 0;
  return seconds > 0 ? seconds : undefined;
}

/** Whether the request's If-None-Match names the kept answer's ETag. */
export function notModified(ifNoneMatch: string | undefined, answer: KeptAnswer): boolean {
  return answer.etag !== undefined && ifNoneMatchHas(ifNoneMatch, answer.etag);
}
