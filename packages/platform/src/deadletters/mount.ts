/**
 * Dead letters for a consuming service (docs/decisions/0600): subscribes to `<topic>.deadletter`
 * for every topic it consumes, keeps each dead letter in the Dapr state store, and serves the
 * admin API to list, replay and discard them.
 */
import { createHash } from 'node:crypto';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { requireRole } from '../caller';
import { AppError } from '../errors';
import type { Dapr } from '../dapr';
import { type DeliveryOutcome, type EventEnvelope, type Subscriptions } from '../subscriptions';
import { parse, parseBody, parseParams } from '../validation';
import type { GracefulShutdown } from '../shutdown';
import { observeOpenDeadLetters } from '../telemetry/metrics';
import {
  DEAD_LETTER_SUFFIX,
  DEAD_LETTERS_PATH,
  MAX_REPLAY_ALL,
  PARKED_RAW_MARKER,
  deadLetterEnvelopeSchema,
  deadLetterListQuerySchema,
  deadLetterParamsSchema,
  deadLetterReplayAllRequestSchema,
  gatewayDeadLettersPath,
  idempotencyKeySchema,
  replayJobParamsSchema,
  type DeadLetterReplayJob,
  type DeadLetterList,
  type DeadLetterReplayAllResult,
  type DeadLetterReplayResult,
} from './api';
import { ReplayJobs } from './jobs';
import { DeadLetterStore, deadLetterId } from './store';
import { OptimisticState } from '../optimistic-state';

/** The parts of a ServiceRuntime the helper needs (a ServiceRuntime fits). */
export interface DeadLetterRuntime {
  service: string;
  logger: Logger;
  dapr: Dapr;
  subscriptions: Subscriptions;
  /** stops reporting `quizmesh.deadletters.open` at shutdown */
  shutdown?: Pick<GracefulShutdown, 'onShutdown'>;
}

export interface DeadLetterEvent {
  /** the dead letter's id in the admin API */
  id: string;
  /** the CloudEvent id */
  eventId: string;
  /** the original CloudEvent */
  event: Record<string, unknown>;
  /** false when the same event arrived on the dead-letter topic before (a redelivery or a failed replay) */
  firstTime: boolean;
}

export interface DeadLettersOptions {
  runtime: DeadLetterRuntime;
  /** the topics this service consumes; each gets a `<topic>.deadletter` subscription */
  topics: readonly string[];
  pubsub?: string;
  stateStore?: string;
  /**
   * Runs after the dead letter is stored (e.g. compensation). It runs on every arrival, so it
   * must be idempotent; if it throws, Dapr redelivers the dead letter and it runs again.
   */
  onDeadLetter?: (topic: string, deadLetter: DeadLetterEvent) => Promise<void>;
  /** upper bound of stored dead letters; beyond it new ones stay in the broker (default 10,000) */
  maxEntries?: number;
  /** tests pin the clock */
  now?: () => Date;
}

export interface DeadLetters {
  readonly store: DeadLetterStore;
  /** `query` as in the HTTP API: `topic`, `limit`, `cursor` (validated; 400 naming the field) */
  list(query: Record<string, unknown>): Promise<DeadLetterList>;
  /** republishes one open dead letter once; a repeated call answers as the first without publishing */
  replay(id: string): Promise<DeadLetterReplayResult>;
  /** replays every open one (or of `topic`) in this call; the HTTP API runs it as a job (startReplayAll) */
  replayAll(topic?: string): Promise<DeadLetterReplayAllResult>;
  /** starts (or finds) the replay-all job: one running per service, one per idempotency key */
  startReplayAll(topic?: string, idempotencyKey?: string): Promise<{ job: DeadLetterReplayJob; created: boolean }>;
  replayJob(jobId: string): Promise<DeadLetterReplayJob | undefined>;
  /** resolves it as discarded (idempotent: discarding a resolved one is fine); 404 if unknown */
  discard(id: string): Promise<void>;
  /**
   * Resolves the dead letter of (topic, eventId) as reconciled: what it stood for happened after
   * all (another app's replay of the same event). False when there is none open.
   */
  reconcile(topic: string, eventId: string, note: string): Promise<boolean>;
}

const cursorPayloadSchema = z.object({ t: z.iso.datetime(), i: z.string().min(1) });

function encodeCursor(next: { firstSeenAt: string; id: string }): string {
  return Buffer.from(JSON.stringify({ t: next.firstSeenAt, i: next.id })).toString('base64url');
}

function decodeCursor(cursor: string): { firstSeenAt: string; id: string } {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    payload = undefined;
  }
  const parsed = cursorPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    throw AppError.badRequest('query.cursor: must be the nextCursor of a previous page', [
      { field: 'query.cursor', message: 'must be the nextCursor of a previous page' },
    ]);
  }
  return { firstSeenAt: parsed.data.t, id: parsed.data.i };
}

/**
 * What a replay republishes: the original event, minus the fields that would tie it to the
 * failed delivery. Trace fields are left for the sidecar to fill from the admin's request
 * (the replay belongs to that trace); an expiration would drop the replay as already expired.
 */
function replayable(event: Record<string, unknown>): Record<string, unknown> {
  const {
    traceid: _traceid,
    traceparent: _traceparent,
    tracestate: _tracestate,
    expiration: _expiration,
    ...rest
  } = event;
  return rest;
}

/** contrib `FromRawPayload`'s envelope: what a `rawPayload` subscription delivers. */
function isRawPayloadEnvelope(raw: Record<string, unknown>): raw is Record<string, unknown> & { data_base64: string } {
  return (
    typeof raw.data_base64 === 'string' && raw.source === 'Dapr' && raw.datacontenttype === 'application/octet-stream'
  );
}

/** A parked dead letter whose bytes are not a CloudEvent. */
function isParkedRaw(event: Record<string, unknown>): boolean {
  return event[PARKED_RAW_MARKER] === true;
}

/**
 * What arrived on a dead-letter topic: the dead-letter subscriptions are `rawPayload`
 * (docs/decisions/0751), so the sidecar hands over the broker's bytes whatever they are.
 * A CloudEvent with an id is kept as before; anything else is parked under a digest of its
 * bytes (a redelivery is the same dead letter), with the bytes in `data_base64`.
 */
export function unwrapDeadLetter(raw: Record<string, unknown>): {
  eventId: string;
  event: Record<string, unknown>;
  unparsable: boolean;
} {
  let bytes: Buffer;
  let candidate: unknown = raw;
  if (isRawPayloadEnvelope(raw)) {
    bytes = Buffer.from(raw.data_base64, 'base64');
    try {
      candidate = JSON.parse(bytes.toString('utf8'));
    } catch {
      candidate = undefined;
    }
  } else {
    bytes = Buffer.from(JSON.stringify(raw));
  }
  const parsed = deadLetterEnvelopeSchema.safeParse(candidate);
  if (parsed.success)
    return { eventId: parsed.data.id, event: candidate as Record<string, unknown>, unparsable: false };
  const digest = createHash('sha256').update(bytes).digest('hex');
  return {
    eventId: `raw-sha256:${digest}`,
    event: {
      [PARKED_RAW_MARKER]: true,
      datacontenttype: 'application/octet-stream',
      data_base64: bytes.toString('base64'),
    },
    unparsable: true,
  };
}

/** Subscribes to the dead-letter topics and mounts the admin API on `app`. */
export function mountDeadLetters(app: Express, options: DeadLettersOptions): DeadLetters {
  const { runtime } = options;
  const topics = [...new Set(options.topics)];
  const [firstTopic, ...otherTopics] = topics;
  if (firstTopic === undefined) throw new Error('mountDeadLetters: no topics given');
  for (const topic of topics) {
    if (topic.endsWith(DEAD_LETTER_SUFFIX))
      throw new Error(`mountDeadLetters: ${topic} is already a dead-letter topic`);
  }
  const topicTuple: [string, ...string[]] = [firstTopic, ...otherTopics];
  const pubsub = options.pubsub ?? 'pubsub';
  const now = options.now ?? (() => new Date());
  const store = new DeadLetterStore(
    new OptimisticState(runtime.dapr, options.stateStore ?? 'statestore'),
    runtime.service,
    options.maxEntries ?? 10_000,
  );
  const log = runtime.logger.child({ component: 'dead-letters' });
  // Counted at each metric collection only (nothing when telemetry is off).
  const stopObserving = observeOpenDeadLetters(async () => (await store.ids()).length);
  runtime.shutdown?.onShutdown('dead-letter metrics', async () => stopObserving());

  const receive = async (topic: string, envelope: EventEnvelope): Promise<DeliveryOutcome> => {
    const { eventId, event, unparsable } = unwrapDeadLetter(envelope.raw);
    if (unparsable) {
      // Parked, not RETRY: a retry can never make these bytes parse, and a retried dead letter
      // has no bounded path: it would loop between sidecar and app. The raw bytes stay for an admin.
      log.error({ topic, eventId }, 'dead letter is not a CloudEvent; parked with its raw bytes');
    }
    const { id, firstTime } = await store.record(topic, eventId, event, now());
    log.warn({ topic, eventId, deadLetterId: id, firstTime }, 'dead letter stored');
    if (!unparsable) await options.onDeadLetter?.(topic, { id, eventId, event, firstTime });
    return 'SUCCESS';
  };

  for (const topic of topics) {
    runtime.subscriptions.add(app, {
      pubsub,
      topic: `${topic}${DEAD_LETTER_SUFFIX}`,
      // Any payload: the consumer's contract is what failed; the envelope is checked in receive().
      schema: z.unknown(),
      handler: (_data, envelope) => receive(topic, envelope),
    });
  }

  const listQuerySchema = deadLetterListQuerySchema(topicTuple);
  const replayAllSchema = deadLetterReplayAllRequestSchema(topicTuple);

  const replayOne = async (id: string): Promise<DeadLetterReplayResult> => {
    const found = await store.get(id);
    if (!found) throw AppError.notFound(`no dead letter ${id}`);
    if (isParkedRaw(found.value.event))
      throw AppError.conflict(`dead letter ${id} is not a CloudEvent (raw bytes in event.data_base64): discard it`);
    const claim = await store.claimReplay(id, now());
    if (!claim.claimed) {
      if (claim.reason === 'unknown') throw AppError.notFound(`no dead letter ${id}`);
      if (claim.reason === 'in-progress') throw AppError.conflict(`dead letter ${id} is being replayed; list it later`);
      // Resolved before: a repeated request answers as the first did, without publishing again.
      const { deadLetter } = claim;
      const outcome = deadLetter.resolution === 'replayed' ? 'replayed' : 'already-gone';
      return { id, eventId: deadLetter.eventId, topic: deadLetter.topic, outcome };
    }
    const { deadLetter, claimId } = claim;
    try {
      await runtime.dapr.publish(pubsub, deadLetter.topic, replayable(deadLetter.event), {
        contentType: 'application/cloudevents+json',
      });
    } catch (err) {
      await store.finishReplay(id, claimId, false, now());
      throw err;
    }
    const outcome = await store.finishReplay(id, claimId, true, now());
    log.info(
      { deadLetterId: id, eventId: deadLetter.eventId, topic: deadLetter.topic, outcome },
      'dead letter replayed',
    );
    return { id, eventId: deadLetter.eventId, topic: deadLetter.topic, outcome };
  };

  const replayAll = async (
    topic: string | undefined,
    progress?: (result: DeadLetterReplayAllResult) => Promise<void>,
  ): Promise<DeadLetterReplayAllResult> => {
    const ids = await store.ids(topic);
    const batch = ids.slice(0, MAX_REPLAY_ALL);
    const result: DeadLetterReplayAllResult = {
      matched: ids.length,
      replayed: 0,
      deadLetteredAgain: 0,
      alreadyGone: 0,
      failed: [],
      remaining: ids.length - batch.length,
    };
    // One at a time, oldest first: consumers see the events in their original order, and a
    // sidecar that is down fails each quickly instead of a burst of parallel timeouts.
    for (const id of batch) {
      try {
        const { outcome } = await replayOne(id);
        if (outcome === 'replayed') result.replayed += 1;
        else if (outcome === 'dead-lettered-again') result.deadLetteredAgain += 1;
        else result.alreadyGone += 1;
      } catch (err) {
        if (err instanceof AppError && err.status === 404) {
          result.alreadyGone += 1;
        } else {
          log.error({ err, deadLetterId: id }, 'replay failed');
          result.failed.push({ id, detail: err instanceof AppError && err.detail ? err.detail : 'replay failed' });
        }
      }
      await progress?.(result);
    }
    return result;
  };

  const jobs = new ReplayJobs({
    state: new OptimisticState(runtime.dapr, options.stateStore ?? 'statestore'),
    service: runtime.service,
    now,
    log,
    run: replayAll,
  });

  const api: DeadLetters = {
    store,
    async list(query) {
      const q = parse(listQuerySchema, query, 'query');
      const page = await store.list({
        topic: q.topic,
        status: q.status,
        limit: q.limit,
        after: q.cursor ? decodeCursor(q.cursor) : undefined,
      });
      return { items: page.items, total: page.total, nextCursor: page.next ? encodeCursor(page.next) : null };
    },
    replay: replayOne,
    replayAll: (topic) => replayAll(topic),
    startReplayAll: (topic, idempotencyKey) => jobs.start(topic, idempotencyKey),
    replayJob: (jobId) => jobs.get(jobId),
    async discard(id) {
      const outcome = await store.resolve(id, 'discarded', now());
      if (outcome === 'unknown') throw AppError.notFound(`no dead letter ${id}`);
      if (outcome === 'resolved') log.info({ deadLetterId: id }, 'dead letter discarded');
    },
    async reconcile(topic, eventId, note) {
      const outcome = await store.resolve(deadLetterId(topic, eventId), 'reconciled', now(), note);
      if (outcome === 'resolved') log.info({ topic, eventId, note }, 'dead letter reconciled');
      return outcome === 'resolved';
    },
  };

  app.get(DEAD_LETTERS_PATH, async (req, res) => {
    requireRole(req, 'admin');
    res.json(await api.list(req.query));
  });
  app.post(`${DEAD_LETTERS_PATH}/replay`, async (req, res) => {
    requireRole(req, 'admin');
    const body = parseBody(req, replayAllSchema.optional());
    const idempotencyKey = parse(idempotencyKeySchema, req.get('idempotency-key'), 'headers.idempotency-key');
    const { job } = await api.startReplayAll(body?.topic, idempotencyKey);
    res
      .status(202)
      .location(`${gatewayDeadLettersPath(runtime.service)}/replay-jobs/${job.id}`)
      .json(job);
  });
  app.get(`${DEAD_LETTERS_PATH}/replay-jobs/:jobId`, async (req, res) => {
    requireRole(req, 'admin');
    const { jobId } = parseParams(req, replayJobParamsSchema);
    const job = await api.replayJob(jobId);
    if (!job) throw AppError.notFound(`no replay job ${jobId}`);
    res.json(job);
  });
  app.post(`${DEAD_LETTERS_PATH}/:id/replay`, async (req, res) => {
    requireRole(req, 'admin');
    const { id } = parseParams(req, deadLetterParamsSchema);
    res.json(await api.replay(id));
  });
  app.delete(`${DEAD_LETTERS_PATH}/:id`, async (req, res) => {
    requireRole(req, 'admin');
    const { id } = parseParams(req, deadLetterParamsSchema);
    await api.discard(id);
    res.status(204).end();
  });

  return api;
}
