/**
 * `state.in-memory`: data lives in the sidecar process. A new UUID ETag on every write; an
 * ETag on a missing key and first-write on an existing key are conflicts (contrib state/in-memory).
 */
import { randomUUID } from 'node:crypto';
import {
  EtagMismatchError,
  type DeleteRequest,
  type SetRequest,
  type StateStore,
  type StoredItem,
  type TransactionOperation,
} from './store';

export class InMemoryStateStore implements StateStore {
  readonly features = ['ETAG', 'TRANSACTIONAL', 'TTL'];
  private readonly items = new Map<string, StoredItem>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Expired items are invisible on read; the sweep only frees memory.
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  async get(key: string): Promise<StoredItem | undefined> {
    return this.live(key);
  }

  async set(req: SetRequest): Promise<void> {
    this.check(req.key, req.etag, req.firstWrite);
    this.apply({ operation: 'upsert', ...req });
  }

  async delete(req: DeleteRequest): Promise<void> {
    if (req.etag === undefined && !this.live(req.key)) return;
    this.check(req.key, req.etag, false);
    this.items.delete(req.key);
  }

  async multi(ops: TransactionOperation[]): Promise<void> {
    // Validate everything first; the event loop makes check-then-apply atomic.
    const shadow = new Map<string, StoredItem | undefined>();
    const current = (key: string): StoredItem | undefined => (shadow.has(key) ? shadow.get(key) : this.live(key));
    for (const op of ops) {
      const item = current(op.key);
      if (
        op.etag !== undefined
          ? item?.etag !== op.etag
          : op.firstWrite && op.operation === 'upsert' && item !== undefined
      ) {
        throw new EtagMismatchError(op.key);
      }
      shadow.set(
        op.key,
        op.operation === 'upsert' ? { value: op.value, etag: 'pending', expiresAt: undefined } : undefined,
      );
    }
    for (const op of ops) this.apply(op);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.items.clear();
  }

  private check(key: string, etag: string | undefined, firstWrite: boolean): void {
    const item = this.live(key);
    if (etag !== undefined ? item?.etag !== etag : firstWrite && item !== undefined) throw new EtagMismatchError(key);
  }

  private apply(op: TransactionOperation): void {
    if (op.operation === 'delete') {
      this.items.delete(op.key);
      return;
    }
    const ttl = op.ttlSeconds;
    this.items.set(op.key, {
      value: op.value,
      etag: randomUUID(),
      expiresAt: ttl !== undefined && ttl >= 0 ? this.now() + ttl * 1000 : undefined,
    });
  }

  private live(key: string): StoredItem | undefined {
    const item = this.items.get(key);
    if (item?.expiresAt !== undefined && item.expiresAt <= this.now()) {
      this.items.delete(key);
      return undefined;
    }
    return item;
  }

  private sweep(): void {
    for (const key of this.items.keys()) this.live(key);
  }
}
