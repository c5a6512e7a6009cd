/**
 * The dead-letter admin API every consuming service serves, as zod schemas with `.meta({id})`
 * so the gateway's OpenAPI generator can document it like the services' own contracts.
 */
import { z } from 'zod';

export const DEAD_LETTERS_PATH = '/api/v1/admin/dead-letters';
export const DEAD_LETTER_SUFFIX = '.deadletter';
export const MAX_REPLAY_ALL = 500;
/** `event[PARKED_RAW_MARKER] === true`: the dead letter's bytes were not a CloudEvent; they are in `event.data_base64`. */
export const PARKED_RAW_MARKER = 'quizmeshUnparsable';

/** Dead-letter ids are derived from (topic, event id): 22 base64url characters. */
export const deadLetterIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, 'must be a dead-letter id (22 characters, base64url)')
  .meta({ description: 'Derived from the topic and the CloudEvent id, so the same event is one dead letter.' });

export const deadLetterParamsSchema = z.object({ id: deadLetterIdSchema });

/** Replay-job ids: 22 base64url characters (from the Idempotency-Key, or random). */
export const replayJobIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, 'must be a replay-job id (22 characters, base64url)');
export const replayJobParamsSchema = z.object({ jobId: replayJobIdSchema });

/** `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the same key is the same replay job. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters')
  .optional();

/** What a dead-letter topic must carry to be stored: a JSON object with a CloudEvent id. The rest is kept as is. */
export const deadLetterEnvelopeSchema = z.looseObject({
  id: z.string().min(1).max(512),
  specversion: z.string().optional(),
  type: z.string().optional(),
  source: z.string().optional(),
});

const cursorSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,400}$/, 'must be the nextCursor of a previous page')
  .meta({ description: 'nextCursor of the previous page' });

/** The topic filter only accepts topics the service consumes (a typo is a 400, not an empty page). */
export function deadLetterListQuerySchema(topics: readonly [string, ...string[]]) {
  return z
    .strictObject({
      topic: z.enum(topics).optional(),
      status: z
        .enum(['open', 'resolved', 'all'])
        .default('open')
        .meta({ description: 'open: still needs an admin (default); resolved: replayed, discarded or reconciled' }),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: cursorSchema.optional(),
    })
    .meta({ id: 'DeadLetterListQuery' });
}

export function deadLetterReplayAllRequestSchema(topics: readonly [string, ...string[]]) {
  return z
    .strictObject({ topic: z.enum(topics).optional() })
    .meta({ id: 'DeadLetterReplayAllRequest', description: 'Replay every dead letter, or every one of this topic.' });
}

export const deadLetterSchema = z
  .object({
    id: deadLetterIdSchema,
    /** the CloudEvent id, kept on replay so consumers can deduplicate */
    eventId: z.string(),
    /** the topic the event was published to (not the dead-letter topic) */
    topic: z.string(),
    type: z.string().nullable(),
    source: z.string().nullable(),
    firstSeenAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
    /** how often it arrived on the dead-letter topic (again after a failed replay, or a redelivery) */
    deliveryCount: z.number().int().positive(),
    /** open; replaying (a replay is publishing it); resolved (see resolution) */
    status: z.enum(['open', 'replaying', 'resolved']),
    /**
     * replayed here; discarded by an admin; reconciled: what it stood for happened after all
     * (e.g. another app's replay of the same event scored the attempt)
     */
    resolution: z.enum(['replayed', 'discarded', 'reconciled']).nullable(),
    resolvedAt: z.iso.datetime().nullable(),
    /** the last replay, also when it failed again (then the dead letter is open again) */
    replayedAt: z.iso.datetime().nullable(),
    /** the most recent failures (with their arrival counts), replays and resolutions, oldest first */
    history: z.array(
      z.object({
        at: z.iso.datetime(),
        what: z.enum(['failed', 'replayed', 'discarded', 'reconciled']),
        count: z.number().int().positive().optional(),
        note: z.string().optional(),
      }),
    ),
    /**
     * the original CloudEvent as Dapr dead-lettered it; for bytes that are not a CloudEvent,
     * `{quizmeshUnparsable: true, datacontenttype: 'application/octet-stream', data_base64}`
     * (such a dead letter can be inspected and discarded, not replayed: 409)
     */
    event: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'DeadLetter', description: 'An event a consumer of this service could not handle.' });

export const deadLetterListSchema = z
  .object({
    items: z.array(deadLetterSchema),
    total: z.number().int().nonnegative(),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'DeadLetterList', description: 'Newest first; total counts every dead letter matching the filter.' });

export const replayOutcomeSchema = z.enum(['replayed', 'dead-lettered-again', 'already-gone']).meta({
  description:
    'replayed: republished and resolved (also the answer to a repeated request: it is not published again); ' +
    'dead-lettered-again: the replay failed again at once, so it stays open with a higher deliveryCount; ' +
    'already-gone: discarded or reconciled meanwhile.',
});

export const deadLetterReplayResultSchema = z
  .object({ id: deadLetterIdSchema, eventId: z.string(), topic: z.string(), outcome: replayOutcomeSchema })
  .meta({ id: 'DeadLetterReplayResult' });

export const deadLetterReplayAllResultSchema = z
  .object({
    matched: z.number().int().nonnegative(),
    replayed: z.number().int().nonnegative(),
    deadLetteredAgain: z.number().int().nonnegative(),
    alreadyGone: z.number().int().nonnegative(),
    failed: z.array(z.object({ id: deadLetterIdSchema, detail: z.string() })),
    /** left for a next call: at most MAX_REPLAY_ALL are replayed per request */
    remaining: z.number().int().nonnegative(),
  })
  .meta({
    id: 'DeadLetterReplayAllResult',
    description: 'Oldest first, one at a time; failures do not stop the others.',
  });

export const replayJobStateSchema = z.enum(['running', 'succeeded', 'interrupted']).meta({
  description:
    'interrupted: its process stopped before the end (no progress for a while); start another, ' +
    'it continues with what is still open.',
});

export const deadLetterReplayJobSchema = z
  .object({
    id: replayJobIdSchema,
    topic: z.string().nullable(),
    state: replayJobStateSchema,
    startedAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    /** counts so far; final when succeeded */
    progress: deadLetterReplayAllResultSchema,
  })
  .meta({
    id: 'DeadLetterReplayJob',
    description:
      'Replay-all runs as a job: one per app at a time, and one per Idempotency-Key, so a retried ' +
      'or concurrent start never replays twice. Poll its Location.',
  });

export type DeadLetterReplayJob = z.infer<typeof deadLetterReplayJobSchema>;
export type DeadLetter = z.infer<typeof deadLetterSchema>;
export type DeadLetterList = z.infer<typeof deadLetterListSchema>;
export type ReplayOutcome = z.infer<typeof replayOutcomeSchema>;
export type DeadLetterReplayResult = z.infer<typeof deadLetterReplayResultSchema>;
export type DeadLetterReplayAllResult = z.infer<typeof deadLetterReplayAllResultSchema>;

/** The public (gateway) path of an app's dead letters: the gateway strips `/{appId}` before forwarding. */
export const gatewayDeadLettersPath = (appId: string) => `${DEAD_LETTERS_PATH}/${appId}`;

/**
 * The admin operations of one app, in the shape of the gateway's OpenAPI operation lists
 * (paths as the gateway publishes them).
 */
export function deadLetterOperations(appId: string, topics: readonly [string, ...string[]]) {
  const base = gatewayDeadLettersPath(appId);
  const errors = [401, 403];
  return [
    {
      operationId: `${appId}ListDeadLetters`,
      method: 'get',
      path: base,
      summary: `Dead letters of ${appId}, newest first (admin)`,
      access: 'admin',
      query: deadLetterListQuerySchema(topics),
      response: { status: 200, schema: deadLetterListSchema },
      errors,
    },
    {
      operationId: `${appId}ReplayDeadLetter`,
      method: 'post',
      path: `${base}/{id}/replay`,
      summary: `Republish one dead letter of ${appId} to its topic (admin)`,
      access: 'admin',
      params: deadLetterParamsSchema,
      response: { status: 200, schema: deadLetterReplayResultSchema },
      errors: [...errors, 404, 409, 503],
    },
    {
      operationId: `${appId}ReplayAllDeadLetters`,
      method: 'post',
      path: `${base}/replay`,
      summary: `Start republishing every open dead letter of ${appId}, or of one topic, as a job (admin)`,
      access: 'admin',
      body: deadLetterReplayAllRequestSchema(topics),
      response: { status: 202, schema: deadLetterReplayJobSchema },
      errors: [...errors, 409],
    },
    {
      operationId: `${appId}GetDeadLetterReplayJob`,
      method: 'get',
      path: `${base}/replay-jobs/{jobId}`,
      summary: `A replay-all job of ${appId} (admin)`,
      access: 'admin',
      params: replayJobParamsSchema,
      response: { status: 200, schema: deadLetterReplayJobSchema },
      errors: [...errors, 404],
    },
    {
      operationId: `${appId}DiscardDeadLetter`,
      method: 'delete',
      path: `${base}/{id}`,
      summary: `Discard one dead letter of ${appId}; it stays listed as resolved (admin)`,
      access: 'admin',
      params: deadLetterParamsSchema,
      response: { status: 204 },
      errors: [...errors, 404],
    },
  ] as const;
}
