/**
 * Outbox relay: publishes pending OutboxEvent rows as CloudEvents through the Dapr sidecar.
 *
 * Claiming is one statement: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` moves
 * the rows' `availableAt` a lease into the future, so other relays (other replicas) skip them
 * without a transaction held open across the network call. A batch is published concurrently
 * (bounded); published rows are marked sent by the next round's claim, in the same statement
 * (one round trip per round: decision 0890), and a failed publish (sidecar or broker down) leaves
 * its row pending with an exponential back-off by that row's attempt count. A relay that dies
 * mid-batch, or before marking, leaves rows that come back when their lease ends. Delivery is therefore
 * at least once: consumers dedupe on the CloudEvent id, which is the row id.
 * Ordering is best effort (`availableAt`, then concurrent within a batch): consumers must not
 * depend on it, as with any Dapr pub/sub.
 */
import type { Logger } from 'pino';
import type { Dapr } from '../dapr';
import type { GracefulShutdown } from '../shutdown';
import { observeOutbox } from '../telemetry/metrics';
import { withTimeout } from '../timeout';
import type { OutboxSql } from './outbox';

export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json';

export interface OutboxRelayOptions {
  /** the service's Prisma client (raw queries only) */
  prisma: OutboxSql;
  dapr: Pick<Dapr, 'publish'>;
  /** Dapr pub/sub component name */
  pubsub: string;
  logger: Logger;
  /** CloudEvent `source`: the publishing app id */
  source: string;
  /** poll period when idle; `wake()` publishes sooner. Default 1000. */
  intervalMs?: number;
  /** rows claimed per round. Default 50. */
  batchSize?: number;
  /** publishes in flight at once within a round. Default 16. */
  publishConcurrency?: number;
  /** how long claimed rows are hidden from other relays. Default 60000. */
  leaseMs?: number;
  /** back-off of a row after its n-th failed publish: min(baseMs · 2^(n-1), maxMs). Default 1000 / 60000. */
  backoff?: { baseMs: number; maxMs: number };
  /** a publish that takes longer counts as failed (it may still arrive: consumers dedupe). Default 10000. */
  publishTimeoutMs?: number;
  /** sent rows older than this are deleted (hourly). Default 7 days; 0 keeps them. */
  retentionMs?: number;
  /** registers `stop()` so shutdown ends the relay after the HTTP server drained */
  shutdown?: GracefulShutdown;
}

export interface OutboxRelay {
  /** Publish now instead of at the next poll, e.g. right after a transaction with events committed. */
  wake(): void;
  /** Finishes the round in progress (in-flight publishes are marked) and stops. Idempotent. */
  stop(): Promise<void>;
  /** One claim-and-publish round; resolves with the number of rows published. For tests and tools. */
  runOnce(): Promise<number>;
}

interface ClaimedRow {
  id: string;
  topic: string;
  type: string;
  data: unknown;
  traceparent: string | null;
  tracestate: string | null;
  createdAt: Date;
  attempts: number;
}

const PURGE_EVERY_MS = 60 * 60 * 1000;
/**
 * Longest the loop leaves published rows unmarked when no wake comes: they are marked by the
 * next claim, so an idle relay polls at least this often while it holds some (at most half the
 * lease, so no other relay claims them again meanwhile).
 */
const MARK_DELAY_MS = 1_000;

/** What a service's composition root may tune about its relay (test harnesses poll faster). */
export type OutboxRelayTuning = Pick<OutboxRelayOptions, 'intervalMs' | 'backoff'>;

/**
 * A service's relay: publishes as the service (CloudEvent `source` = its app id) through its
 * sidecar to its pub/sub (`PUBSUB_NAME`), polls every `OUTBOX_POLL_MS` unless `tuning` says
 * otherwise (tests), and is stopped by the service's graceful shutdown.
 */
export function startServiceOutboxRelay(
  runtime: { service: string; dapr: OutboxRelayOptions['dapr']; logger: Logger; shutdown: GracefulShutdown },
  prisma: OutboxSql,
  config: { PUBSUB_NAME: string; OUTBOX_POLL_MS: number },
  tuning: OutboxRelayTuning = {},
): OutboxRelay {
  return startOutboxRelay({
    prisma,
    pubsub: config.PUBSUB_NAME,
    intervalMs: config.OUTBOX_POLL_MS,
    ...tuning,
    dapr: runtime.dapr,
    logger: runtime.logger,
    source: runtime.service,
    shutdown: runtime.shutdown,
  });
}

export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const intervalMs = options.intervalMs ?? 1_000;
  const batchSize = options.batchSize ?? 50;
  const publishConcurrency = options.publishConcurrency ?? 16;
  const leaseMs = options.leaseMs ?? 60_000;
  const backoff = options.backoff ?? { baseMs: 1_000, maxMs: 60_000 };
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  const retentionMs = options.retentionMs ?? 7 * 24 * 60 * 60 * 1000;
  const markDelayMs = Math.min(MARK_DELAY_MS, leaseMs / 2);
  const { prisma, logger } = options;
  const log = logger.child({ component: 'outbox-relay' });

  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let wakeRequested = false;
  let lastPurge = 0;
  let consecutiveLoopFailures = 0;
  /** published by the loop's last round, marked sent by the next round's claim */
  let unmarked: string[] = [];

  const delayFor = (attempts: number) => Math.min(backoff.baseMs * 2 ** Math.max(0, attempts - 1), backoff.maxMs);

  /**
   * Claims due rows and, in the same statement, marks sent the rows `published` in the round
   * before (a data-modifying CTE): one round trip per round instead of two. Those rows are
   * excluded from the claim, in case their lease ended meanwhile.
   */
  async function claim(published: readonly string[]): Promise<ClaimedRow[]> {
    return prisma.$queryRawUnsafe<ClaimedRow[]>(
      `WITH marked AS (
         UPDATE "OutboxEvent" SET "sentAt" = now(), "lastError" = NULL WHERE "id" = ANY($3::uuid[]))
       UPDATE "OutboxEvent" SET "availableAt" = now() + make_interval(secs => $2::float8 / 1000)
       WHERE "id" IN (
         SELECT "id" FROM "OutboxEvent"
         WHERE "sentAt" IS NULL AND "availableAt" <= now() AND "id" <> ALL($3::uuid[])
         ORDER BY "availableAt", "createdAt"
         LIMIT $1::int
         FOR UPDATE SKIP LOCKED)
       RETURNING "id", "topic", "type", "data", "traceparent", "tracestate", "createdAt", "attempts"`,
      batchSize,
      leaseMs,
      published,
    );
  }

  function cloudEvent(row: ClaimedRow): Record<string, unknown> {
    return {
      specversion: '1.0',
      id: row.id,
      source: options.source,
      type: row.type,
      time: row.createdAt.toISOString(),
      datacontenttype: 'application/json',
      data: row.data,
      // daprd keeps a CloudEvent's own trace fields (it only fills them when `traceid` is
      // missing), so the event continues the trace of the request that caused it.
      ...(row.traceparent ? { traceparent: row.traceparent, traceid: row.traceparent } : {}),
      ...(row.tracestate ? { tracestate: row.tracestate } : {}),
    };
  }

  async function publish(row: ClaimedRow): Promise<void> {
    await withTimeout(
      options.dapr.publish(options.pubsub, row.topic, cloudEvent(row), { contentType: CLOUDEVENT_CONTENT_TYPE }),
      publishTimeoutMs,
      `publish timed out after ${publishTimeoutMs} ms`,
    );
  }

  /** One statement for the whole batch: the database round trip per row was the bottleneck. */
  async function markSent(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await prisma.$executeRawUnsafe(
      `UPDATE "OutboxEvent" SET "sentAt" = now(), "lastError" = NULL WHERE "id" = ANY($1::uuid[])`,
      ids,
    );
  }

  /**
   * One round: claim (marking what the previous round published), publish, then either mark
   * what went out now (`markNow`: runOnce, stop) or leave it to the next round's claim. The loop
   * does the latter: at a low rate every event is a round of its own, and its mark rides on the
   * next claim, which comes with the next wake or within MARK_DELAY_MS.
   */
  async function round(markNow: boolean): Promise<number> {
    const marking = unmarked;
    unmarked = [];
    let rows: ClaimedRow[];
    try {
      rows = await claim(marking);
    } catch (err) {
      unmarked = [...marking, ...unmarked];
      throw err;
    }
    const sent: string[] = [];
    const failed: Array<{ row: ClaimedRow; err: unknown }> = [];
    try {
      // Up to `publishConcurrency` publishes in flight: a batch takes about as long as its
      // slowest publish, not the sum of them (one at a time topped out near 120 events/s).
      let next = 0;
      const worker = async () => {
        for (let row = rows[next++]; row; row = rows[next++]) {
          try {
            await publish(row);
            sent.push(row.id);
            log.debug({ eventId: row.id, topic: row.topic }, 'event published');
          } catch (err) {
            failed.push({ row, err });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(publishConcurrency, rows.length) }, worker));
    } finally {
      // Also after a failure: what went out must not go out again.
      if (markNow) await markSent(sent);
      else unmarked.push(...sent);
    }
    if (failed.length > 0) await backOff(failed);
    return sent.length;
  }

  const runOnce = () => round(true);

  /** Each failed row stays pending and backs off exponentially by its own attempt count. */
  async function backOff(failed: Array<{ row: ClaimedRow; err: unknown }>): Promise<void> {
    const messages = failed.map(({ err }) => (err instanceof Error ? err.message : String(err)).slice(0, 1000));
    const delaysMs = failed.map(({ row }) => delayFor(row.attempts + 1));
    await prisma.$executeRawUnsafe(
      `UPDATE "OutboxEvent" AS o SET "attempts" = o."attempts" + 1, "lastError" = f.err,
         "availableAt" = now() + make_interval(secs => f.delay_ms / 1000)
       FROM unnest($1::uuid[], $2::text[], $3::float8[]) AS f(id, err, delay_ms)
       WHERE o."id" = f.id`,
      failed.map(({ row }) => row.id),
      messages,
      delaysMs,
    );
    const attempts = Math.max(...failed.map(({ row }) => row.attempts + 1));
    const level = attempts >= 10 ? 'error' : 'warn';
    log[level](
      {
        events: failed.length,
        eventId: failed[0]?.row.id,
        topic: failed[0]?.row.topic,
        attempts,
        retryInMs: delayFor(attempts),
        err: messages[0],
      },
      'publish failed; events stay pending',
    );
  }

  async function purgeSent(): Promise<void> {
    if (retentionMs <= 0 || Date.now() - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = Date.now();
    const deleted = await prisma.$executeRawUnsafe(
      `DELETE FROM "OutboxEvent" WHERE "sentAt" < now() - make_interval(secs => $1::float8 / 1000)`,
      retentionMs,
    );
    if (deleted > 0) log.info({ deleted }, 'purged sent outbox events');
  }

  function sleep(ms: number): Promise<void> {
    if (wakeRequested || stopped) {
      wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        wakeRequested = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      let pause = intervalMs;
      try {
        const published = await round(false);
        await purgeSent();
        consecutiveLoopFailures = 0;
        if (published === batchSize)
          pause = 0; // more may be waiting
        else if (unmarked.length > 0) pause = Math.min(pause, markDelayMs);
      } catch (err) {
        // The database is unreachable (the sidecar's failures are handled per row above).
        consecutiveLoopFailures += 1;
        pause = Math.min(intervalMs * 2 ** consecutiveLoopFailures, backoff.maxMs);
        if (unmarked.length > 0) pause = Math.min(pause, markDelayMs);
        log.warn({ err, retryInMs: pause }, 'outbox relay round failed');
      }
      if (pause > 0) await sleep(pause);
    }
  }

  // Read at each metric collection only (nothing when telemetry is off).
  const stopObserving = observeOutbox(async () => {
    const [row] = await prisma.$queryRawUnsafe<Array<{ backlog: number; oldest_age_s: number }>>(
      `SELECT count(*)::int AS backlog,
              coalesce(extract(epoch FROM now() - min("createdAt")), 0)::float8 AS oldest_age_s
       FROM "OutboxEvent" WHERE "sentAt" IS NULL`,
    );
    return { backlog: row?.backlog ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest_age_s ?? 0) };
  });

  const running = loop();
  let stopping: Promise<void> | undefined;
  const relay: OutboxRelay = {
    wake() {
      wakeRequested = true;
      wakeUp?.();
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        stopObserving();
        wakeUp?.();
        await running;
        try {
          await markSent(unmarked.splice(0));
        } catch (err) {
          // They come back when their lease ends and go out again (consumers dedupe).
          log.warn({ err }, 'published events not marked sent at stop');
        }
        log.info('outbox relay stopped');
      })();
      return stopping;
    },
    runOnce,
  };
  options.shutdown?.onShutdown('outbox relay', () => relay.stop());
  return relay;
}
