/**
 * The control loop: a source feeds keys of changed resources into the work queue, workers take
 * keys and run the reconciler; failures come back with back-off, conflicts (409) right away with a
 * fresh read, healthy resources periodically (drift, statistics).
 */
import { recordReconcile } from '@quizmesh/platform/telemetry';
import { QuizReconciler, type ReconcilerOptions } from './reconciler';
import { ConflictError, type QuizSource } from './source';
import { WorkQueue, type WorkQueueOptions } from './queue';

export interface ControllerOptions extends Omit<ReconcilerOptions, 'source'> {
  source: QuizSource;
  workers?: number;
  queue?: WorkQueueOptions;
}

export interface ResourceReport {
  key: string;
  quizId?: string | undefined;
  publishedVersion?: number | undefined;
  players?: number | undefined;
  topScore?: number | undefined;
  ready: string;
  reason?: string | undefined;
  message?: string | undefined;
  retries: number;
}

export class QuizController {
  /** a new queue per leadership term (a stopped queue stays stopped) */
  queue: WorkQueue;
  private readonly reconciler: QuizReconciler;
  private readonly workers: Promise<void>[] = [];
  private running = false;
  /** reconciles run, for tests and the status endpoint */
  readonly counters = { reconciles: 0, failures: 0, conflicts: 0 };

  constructor(private readonly options: ControllerOptions) {
    this.queue = new WorkQueue(options.queue);
    this.reconciler = new QuizReconciler(options);
  }

  get source(): QuizSource {
    return this.options.source;
  }

  isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.queue = new WorkQueue(this.options.queue);
    await this.options.source.start((key) => this.queue.add(key));
    for (const key of this.options.source.keys()) this.queue.add(key);
    for (let i = 0; i < (this.options.workers ?? 2); i += 1) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.queue.shutdown();
    await this.options.source.stop();
    await Promise.all(this.workers.splice(0));
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        this.counters.reconciles += 1;
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        recordReconcile(result.requeueAfterMs !== undefined ? 'requeue' : 'success', seconds());
      } catch (err) {
        // A conflict is re-read soon (requeue); anything else failed.
        recordReconcile(err instanceof ConflictError ? 'requeue' : 'error', seconds());
        if (err instanceof ConflictError) {
          // Someone else changed the resource: the watch brings the new version; re-read it soon.
          this.counters.conflicts += 1;
          this.options.logger.debug({ key }, err.message);
          this.queue.addRateLimited(key);
        } else {
          this.counters.failures += 1;
          const retryInMs = this.queue.addRateLimited(key);
          this.options.logger.warn({ err, key, retryInMs }, 'reconcile failed');
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** What the status endpoint shows: every resource and how its last reconcile went. */
  report(): ResourceReport[] {
    return this.options.source
      .keys()
      .sort()
      .map((key) => {
        const resource = this.options.source.get(key);
        const ready = resource?.status?.conditions?.find((c) => c.type === 'Ready');
        return {
          key,
          quizId: resource?.status?.quizId,
          publishedVersion: resource?.status?.publishedVersion,
          players: resource?.status?.players,
          topScore: resource?.status?.topScore,
          ready: ready?.status ?? 'Unknown',
          reason: ready?.reason,
          message: ready?.message,
          retries: this.queue.retries(key),
        };
      });
  }
}
