/**
 * Replay-all as a job (docs/decisions/0780): `POST …/replay` answers 202 with the job and its
 * Location at once, and the replay runs in the background of the app that accepted it. The
 * job lives in the state store:
 *  - `dead-letters:<service>:replay-job:<jobId>`: topic, state, progress, heartbeat;
 *  - `dead-letters:<service>:replay-job:current`: the id of the latest job.
 * Starting writes the pointer with its ETag (and the job first-write), so two concurrent starts,
 * or a start retried after a timeout, find one job: the same Idempotency-Key is the same job id,
 * and while a job runs every other start gets that job (or 409 for another topic).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError } from '../errors';
import type { DeadLetterReplayAllResult, DeadLetterReplayJob } from './api';
import type { OptimisticState } from '../optimistic-state';

/** A running job that has not written progress for this long died with its process. */
export const REPLAY_JOB_STALE_MS = 30_000;
/** Progress is written at most this often (and at the end). */
const PROGRESS_EVERY_MS = 1_000;

const progressSchema = z.object({
  matched: z.number(),
  replayed: z.number(),
  deadLetteredAgain: z.number(),
  alreadyGone: z.number(),
  failed: z.array(z.object({ id: z.string(), detail: z.string() })),
  remaining: z.number(),
});

const jobSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('replay-job'),
    id: z.string(),
    topic: z.string().nullable(),
    state: z.enum(['running', 'succeeded']),
    startedAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
    progress: progressSchema,
  }),
  z.object({ kind: z.literal('replay-job-pointer'), jobId: z.string() }),
]);
type StoredJob = Extract<z.infer<typeof jobSchema>, { kind: 'replay-job' }>;

const emptyProgress = (): DeadLetterReplayAllResult => ({
  matched: 0,
  replayed: 0,
  deadLetteredAgain: 0,
  alreadyGone: 0,
  failed: [],
  remaining: 0,
});

export interface ReplayJobsOptions {
  state: OptimisticState;
  service: string;
  now: () => Date;
  log: Logger;
  /** the replay itself; calls `progress` after each dead letter */
  run: (
    topic: string | undefined,
    progress: (result: DeadLetterReplayAllResult) => Promise<void>,
  ) => Promise<DeadLetterReplayAllResult>;
}

export class ReplayJobs {
  private readonly prefix: string;
  private readonly pointerKey: string;

  constructor(private readonly options: ReplayJobsOptions) {
    this.prefix = `dead-letters:${options.service}:replay-job`;
    this.pointerKey = `${this.prefix}:current`;
  }

  private jobKey(jobId: string) {
    return `${this.prefix}:${jobId}`;
  }

  /** The job id of an Idempotency-Key: per service, so keys of different apps never meet. */
  private idFor(idempotencyKey: string): string {
    return createHash('sha256')
      .update(this.options.service)
      .update('\0')
      .update(idempotencyKey)
      .digest('base64url')
      .slice(0, 22);
  }

  private async read(jobId: string): Promise<StoredJob | undefined> {
    const found = await this.options.state.readOne(jobSchema, this.jobKey(jobId));
    return found?.value.kind === 'replay-job' ? found.value : undefined;
  }

  private isStale(job: StoredJob): boolean {
    return job.state === 'running' && this.options.now().getTime() - Date.parse(job.updatedAt) > REPLAY_JOB_STALE_MS;
  }

  private view(job: StoredJob): DeadLetterReplayJob {
    const { kind: _kind, ...rest } = job;
    return { ...rest, state: this.isStale(job) ? 'interrupted' : job.state };
  }

  async get(jobId: string): Promise<DeadLetterReplayJob | undefined> {
    const job = await this.read(jobId);
    return job ? this.view(job) : undefined;
  }

  async start(
    topic: string | undefined,
    idempotencyKey: string | undefined,
  ): Promise<{ job: DeadLetterReplayJob; created: boolean }> {
    const wanted = topic ?? null;
    const jobId =
      idempotencyKey === undefined ? randomBytes(16).toString('base64url').slice(0, 22) : this.idFor(idempotencyKey);
    const outcome = await this.options.state.mutate(jobSchema, [this.pointerKey], async (current) => {
      const pointer = current.get(this.pointerKey);
      if (idempotencyKey !== undefined) {
        const same = await this.read(jobId);
        if (same) {
          if (same.topic !== wanted)
            throw new AppError(422, {
              code: 'idempotency-key-reused',
              detail: `Idempotency-Key was used for a replay of ${same.topic ?? 'every topic'}; use a new key`,
              errors: [{ field: 'headers.idempotency-key', message: 'already used with another body' }],
            });
          return { writes: [], result: { job: same, created: false } };
        }
      }
      const latest = pointer?.value.kind === 'replay-job-pointer' ? await this.read(pointer.value.jobId) : undefined;
      if (latest && latest.state === 'running' && !this.isStale(latest)) {
        if (latest.topic !== wanted)
          throw new AppError(409, {
            code: 'replay-job-running',
            detail: `replay job ${latest.id} (${latest.topic ?? 'every topic'}) is still running; wait for it`,
            extensions: { jobId: latest.id },
          });
        return { writes: [], result: { job: latest, created: false } };
      }
      const at = this.options.now().toISOString();
      const job: StoredJob = {
        kind: 'replay-job',
        id: jobId,
        topic: wanted,
        state: 'running',
        startedAt: at,
        updatedAt: at,
        finishedAt: null,
        progress: emptyProgress(),
      };
      return {
        writes: [
          { key: this.pointerKey, value: { kind: 'replay-job-pointer', jobId }, etag: pointer?.etag ?? null },
          { key: this.jobKey(jobId), value: job, etag: null },
        ],
        result: { job, created: true },
      };
    });
    if (outcome.created) void this.execute(outcome.job);
    return { job: this.view(outcome.job), created: outcome.created };
  }

  private async execute(job: StoredJob): Promise<void> {
    const { log, now } = this.options;
    let lastWrite = Date.now();
    const save = async (next: Partial<StoredJob>) => {
      Object.assign(job, next, { updatedAt: now().toISOString() });
      await this.options.state.saveUnconditionally(this.jobKey(job.id), job);
    };
    log.info({ jobId: job.id, topic: job.topic }, 'replay job started');
    try {
      const result = await this.options.run(job.topic ?? undefined, async (progress) => {
        if (Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
        lastWrite = Date.now();
        await save({ progress: { ...progress, failed: [...progress.failed] } });
      });
      await save({ state: 'succeeded', finishedAt: now().toISOString(), progress: result });
      log.info({ jobId: job.id, ...result, failed: result.failed.length }, 'replay job finished');
    } catch (err) {
      // Left running: it turns "interrupted" when stale, and a new start continues with what is open.
      log.error({ err, jobId: job.id }, 'replay job stopped');
    }
  }
}
