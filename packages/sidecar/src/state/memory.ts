/**
 * `state.in-memory`: data lives in the sidecar process. A new UUID ETag on every write; an
 * ETag on a missing key and first-write on an existing key are conflicts (contrib state/in-memory).
 *
 * With `persistFile` (the local extension `persistPath`, which daprd ignores) the items also
 * live in a JSON file: loaded at start, rewritten (temp file + rename) after every change before
 * the change is answered, so what a caller was told is saved survives a restart of the sidecar.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  EtagMismatchError,
  type DeleteRequest,
  type SetRequest,
  type StateStore,
  type StoredItem,
  type TransactionOperation,
} from './store';
import { isProcessAlive } from '@quizmesh/platform/process';

interface Snapshot {
  version: 1;
  items: Array<[string, StoredItem]>;
}

/** Another live process holds the store's file (a second sidecar of the same app). */
export class PersistFileBusyError extends Error {
  constructor(file: string, pid: string) {
    super(`${file} is in use by process ${pid} (another sidecar of this app?)`);
    this.name = 'PersistFileBusyError';
  }
}

/** Files held by stores of this process (sidecars started in-process, as tests do). */
const heldHere = new Set<string>();

/** One writer per file: `<file>.lock` holds the owner's pid; a lock of a dead process is taken over. */
function lockFile(file: string): string {
  const lock = `${file}.lock`;
  if (heldHere.has(lock)) throw new PersistFileBusyError(file, String(process.pid));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(lock);
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readFileSync(lock, 'utf8').trim();
      // This pid but not held here: left by an earlier process that had the same pid.
      if (Number(owner) !== process.pid && isProcessAlive(Number(owner))) throw new PersistFileBusyError(file, owner);
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`cannot lock ${file}`);
}

export class InMemoryStateStore implements StateStore {
  readonly features = ['ETAG', 'TRANSACTIONAL', 'TTL'];
  private readonly items = new Map<string, StoredItem>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly persistFile: string | undefined;
  private readonly lock: string | undefined;
  /** the last snapshot write; each change chains its own after it, so files are written in order */
  private saved: Promise<void> = Promise.resolve();

  constructor(options: { now?: () => number; persistFile?: string | undefined } = {}) {
    this.now = options.now ?? Date.now;
    this.persistFile = options.persistFile;
    if (this.persistFile !== undefined) {
      mkdirSync(dirname(this.persistFile), { recursive: true });
      this.lock = lockFile(this.persistFile);
      this.load(this.persistFile);
    }
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
    await this.persist();
  }

  async delete(req: DeleteRequest): Promise<void> {
    if (req.etag === undefined && !this.live(req.key)) return;
    this.check(req.key, req.etag, false);
    this.items.delete(req.key);
    await this.persist();
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
    await this.persist();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.saved.catch(() => undefined);
    if (this.lock !== undefined) {
      rmSync(this.lock, { force: true });
      heldHere.delete(this.lock);
    }
    this.items.clear();
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const snapshot = JSON.parse(text) as Snapshot;
    if (snapshot.version !== 1 || !Array.isArray(snapshot.items)) throw new Error(`${file}: not a state snapshot`);
    for (const [key, item] of snapshot.items) this.items.set(key, item);
    // Dropped on read anyway; not carried into the next snapshot.
    this.sweep();
  }

  /**
   * Writes the whole map after the change already applied in memory (a dev-sized store: a full
   * snapshot is simpler than a log and as safe). The change is answered once its file is in place.
   */
  private persist(): Promise<void> {
    const file = this.persistFile;
    if (file === undefined) return Promise.resolve();
    const snapshot: Snapshot = { version: 1, items: [...this.items.entries()] };
    const temp = `${file}.${process.pid}.tmp`;
    this.saved = this.saved
      .catch(() => undefined)
      .then(async () => {
        await writeFile(temp, JSON.stringify(snapshot));
        await rename(temp, file);
      });
    return this.saved;
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
