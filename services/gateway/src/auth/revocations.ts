/**
 * Per-user "not before" for access tokens (docs/decisions/0731): identity publishes
 * tokens.revoked on logout, logout-all, refresh-token family revocation and password change;
 * every gateway replica receives it (broadcast), remembers it in memory and in the Dapr state
 * store (for replicas that start later), and the token verifier refuses tokens of that user
 * whose `iat` is earlier.
 *
 * Lookups are cached per user for `cacheTtlMs`, so the state store sees at most one read per
 * active user per interval; an event updates the cache at once. When the state store cannot be
 * read, the last known value (or none) is used and a warning logged: access tokens still expire
 * after minutes, and an outage of the store must not turn every authenticated request into a 503.
 */
import type { Logger } from 'pino';

export interface NotBeforeStore {
  /** epoch seconds, or undefined when the user never revoked */
  get(userId: string): Promise<number | undefined>;
  set(userId: string, notBeforeS: number): Promise<void>;
}

export interface RevocationsOptions {
  store: NotBeforeStore;
  cacheTtlMs: number;
  /** at most this many users cached (oldest evicted first) */
  maxCachedUsers?: number;
  logger: Logger;
  now?: () => number;
}

interface Cached {
  notBeforeS: number | undefined;
  loadedAtMs: number;
}

export class Revocations {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly options: RevocationsOptions) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Epoch seconds before which the user's tokens are refused; undefined = none revoked. */
  async notBefore(userId: string): Promise<number | undefined> {
    const cached = this.cache.get(userId);
    if (cached && this.now() - cached.loadedAtMs < this.options.cacheTtlMs) return cached.notBeforeS;
    try {
      const stored = await this.options.store.get(userId);
      // An event may have arrived while the read was under way: keep the later of the two.
      const notBeforeS = latest(stored, this.cache.get(userId)?.notBeforeS);
      this.remember(userId, notBeforeS);
      return notBeforeS;
    } catch (err) {
      this.options.logger.warn({ err, userId }, 'could not read token revocations; using the last known value');
      return cached?.notBeforeS;
    }
  }

  /** Records a revocation (from tokens.revoked): effective on this replica at once, then stored. */
  async revoke(userId: string, notBeforeS: number): Promise<void> {
    const notBefore = latest(notBeforeS, this.cache.get(userId)?.notBeforeS) ?? notBeforeS;
    this.remember(userId, notBefore);
    // Several replicas write the same value for one event; an older event never lowers it.
    const stored = await this.options.store.get(userId);
    if (stored === undefined || stored < notBefore) await this.options.store.set(userId, notBefore);
  }

  private remember(userId: string, notBeforeS: number | undefined): void {
    this.cache.delete(userId);
    this.cache.set(userId, { notBeforeS, loadedAtMs: this.now() });
    const max = this.options.maxCachedUsers ?? 100_000;
    if (this.cache.size > max) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/** The store on the gateway's Dapr state store: key `tokens-not-before-<userId>`, kept for `retentionS`. */
export function daprNotBeforeStore(
  dapr: {
    getState<T>(store: string, key: string): Promise<T | undefined>;
    saveState(
      store: string,
      items: Array<{ key: string; value: unknown; metadata?: Record<string, string> }>,
    ): Promise<void>;
  },
  storeName: string,
  retentionS: number,
): NotBeforeStore {
  const key = (userId: string) => `tokens-not-before-${userId}`;
  return {
    async get(userId) {
      const value = await dapr.getState<unknown>(storeName, key(userId));
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    },
    async set(userId, notBeforeS) {
      // Kept longer than any access token lives; after that no token it could refuse exists.
      await dapr.saveState(storeName, [
        { key: key(userId), value: notBeforeS, metadata: { ttlInSeconds: String(retentionS) } },
      ]);
    },
  };
}
