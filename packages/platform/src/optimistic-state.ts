/**
 * Optimistic concurrency on the Dapr state store: read values with their ETags, then write
 * all-or-nothing with every write conditioned on what was read (the ETag, or "must not exist
 * yet" through first-write). Two replicas handling events at the same moment then never
 * overwrite each other: the loser re-reads and tries again.
 *
 * Caveat: Redis (contrib's state.redis) accepts an ETag on a key that was deleted meanwhile,
 * so a plan that must notice a concurrent delete also writes a key the deleter changes too
 * (the dead-letter store always rewrites its index).
 *
 * It uses the official SDK client of the platform's `Dapr`, because `Dapr.getState` and
 * `Dapr.saveState` do not expose ETags or first-write; failures become `DaprCallError` as
 * everywhere else in the platform.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StateConcurrencyEnum } from '@dapr/dapr/enum/StateConcurrency.enum';
import { StateConsistencyEnum } from '@dapr/dapr/enum/StateConsistency.enum';
import type { z } from 'zod';
import { AppError } from './errors';
import type { DaprHttpClient } from './dapr-http-client';
import { DaprCallError, parseSdkError, type Dapr } from './dapr';

export interface Versioned<T> {
  value: T;
  etag: string;
}

/** A write planned from a read: `etag` is the version read, or null when the key was absent. */
export type ConditionalWrite =
  { key: string; value: unknown; etag: string | null } | { key: string; delete: true; etag: string };

/** What `mutate` should do after looking at the current values. */
export interface MutationPlan<R> {
  writes: ConditionalWrite[];
  result: R;
}

/** Every attempt lost a race: so much contention that the caller should let Dapr redeliver. */
export class ContentionError extends AppError {
  constructor(keys: readonly string[], attempts: number) {
    super(503, {
      code: 'state-contention',
      detail: `state keys ${keys.join(', ')} kept changing during ${attempts} attempts`,
    });
  }
}

type TransactionOperations = Parameters<DaprHttpClient['state']['transaction']>[1];

export interface OptimisticStateOptions {
  /** read-plan-write rounds before giving up with ContentionError */
  maxAttempts?: number;
}

export class OptimisticState {
  private readonly maxAttempts: number;

  constructor(
    private readonly dapr: Dapr,
    readonly storeName: string,
    options: OptimisticStateOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 25;
  }

  /**
   * Current values and ETags of `keys` (missing keys are absent from the map). A stored value
   * that does not match `schema` is an error: it was not written by this code.
   */
  async read<S extends z.ZodType>(schema: S, keys: readonly string[]): Promise<Map<string, Versioned<z.infer<S>>>> {
    const found = new Map<string, Versioned<z.infer<S>>>();
    if (keys.length === 0) return found;
    const operation = `state bulk get ${this.storeName}`;
    let items: unknown;
    try {
      items = await this.dapr.client.state.getBulk(this.storeName, [...keys]);
    } catch (err) {
      const { status, body } = parseSdkError(err);
      throw new DaprCallError(operation, status, body, err);
    }
    if (!Array.isArray(items)) throw new DaprCallError(operation, undefined, 'bulk get did not answer an array', items);
    for (const item of items as unknown[]) {
      if (!item || typeof item !== 'object') continue;
      const { key, data, etag, error } = item as { key?: unknown; data?: unknown; etag?: unknown; error?: unknown };
      if (typeof error === 'string' && error !== '') throw new DaprCallError(operation, undefined, error, error);
      if (typeof key !== 'string' || data === undefined || data === null || data === '') continue;
      const parsed = schema.safeParse(data);
      if (!parsed.success) {
        throw new AppError(500, {
          code: 'corrupt-state',
          detail: `state key ${key} holds an unexpected value`,
          cause: parsed.error,
        });
      }
      found.set(key, { value: parsed.data, etag: typeof etag === 'string' ? etag : String(etag) });
    }
    return found;
  }

  async readOne<S extends z.ZodType>(schema: S, key: string): Promise<Versioned<z.infer<S>> | undefined> {
    return (await this.read(schema, [key])).get(key);
  }

  /** Writes a key unconditionally (a value only its one writer changes). */
  async saveUnconditionally(key: string, value: unknown): Promise<void> {
    await this.dapr.saveState(this.storeName, [{ key, value }]);
  }

  /** Deletes a key unconditionally. */
  async deleteKey(key: string): Promise<void> {
    await this.dapr.deleteState(this.storeName, key);
  }

  /**
   * Read-plan-write with retries: `plan` sees the current values of `keys` and answers the
   * writes (conditioned on those values) and a result. When another writer got there first,
   * everything is re-read and planned again. A plan with no writes ends the loop at once.
   */
  async mutate<S extends z.ZodType, R>(
    schema: S,
    keys: readonly string[],
    plan: (current: Map<string, Versioned<z.infer<S>>>) => MutationPlan<R> | Promise<MutationPlan<R>>,
  ): Promise<R> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      const current = await this.read(schema, keys);
      const { writes, result } = await plan(current);
      if (writes.length === 0 || (await this.writeIfUnchanged(schema, writes))) return result;
      // Lost a race: back off a little (randomised, growing) so contenders spread out.
      await sleep(Math.floor(Math.random() * 5 * Math.min(attempt, 10)));
    }
    throw new ContentionError(keys, this.maxAttempts);
  }

  /**
   * One transaction of conditional writes. True when it committed; false when a key changed
   * since it was read (a lost race). Other failures throw.
   *
   * Dapr answers every failed transaction with the same 500 (ERR_STATE_TRANSACTION), ETag
   * mismatches included, so a failure is classified by re-reading the keys.
   */
  async writeIfUnchanged(schema: z.ZodType, writes: readonly ConditionalWrite[]): Promise<boolean> {
    const operations = writes.map((write) =>
      'delete' in write
        ? { operation: 'delete', request: { key: write.key, etag: write.etag } }
        : {
            operation: 'upsert',
            request: {
              key: write.key,
              value: write.value,
              // daprd expects the ETag as a string (the SDK's type says {value}); first-write
              // without an ETag means "only if the key does not exist yet".
              ...(write.etag !== null
                ? { etag: write.etag }
                : {
                    options: {
                      concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
                      consistency: StateConsistencyEnum.CONSISTENCY_UNSPECIFIED,
                    },
                  }),
            },
          },
    );
    try {
      await this.dapr.client.state.transaction(this.storeName, operations as unknown as TransactionOperations);
      return true;
    } catch (err) {
      const now = await this.read(
        schema,
        writes.map((w) => w.key),
      );
      const changed = writes.some((write) => (now.get(write.key)?.etag ?? null) !== write.etag);
      if (changed) return false;
      const { status, body } = parseSdkError(err);
      throw new DaprCallError(`state transaction ${this.storeName}`, status, body, err);
    }
  }
}
