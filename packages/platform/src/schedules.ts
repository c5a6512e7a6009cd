/**
 * Periodic jobs, triggered by a Dapr `bindings.cron` input binding: the sidecar probes
 * `OPTIONS /<binding>` once and then POSTs an empty body to `/<binding>` on every tick. The job
 * runs in every replica that has the binding (Dapr's cron fires per sidecar), so it must be
 * idempotent and safe to run concurrently. The binding is declared next to the app's other
 * components (components/common locally, the chart's `schedules` on Kubernetes).
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import { sameSecret } from './caller';
import { AppError } from './errors';

export interface ScheduledJob {
  /** the cron binding's component name, also the route the sidecar calls */
  binding: string;
  /** does one round of the work and says what it did (logged and answered) */
  run(): Promise<Record<string, unknown>>;
}

export function mountScheduledJob(
  app: Express,
  job: ScheduledJob,
  options: { logger: Logger; appApiToken?: string | undefined },
): void {
  const log = options.logger.child({ job: job.binding });
  // The sidecar starts the binding only if this probe answers 2xx (or 405).
  app.options(`/${job.binding}`, (_req, res) => {
    res.status(204).end();
  });
  app.post(`/${job.binding}`, async (req, res) => {
    // Only the sidecar triggers it: with APP_API_TOKEN set it presents the token, as for events.
    if (options.appApiToken !== undefined && !sameSecret(req.header('dapr-api-token') ?? '', options.appApiToken)) {
      throw AppError.unauthorized('scheduled jobs are triggered by the Dapr sidecar only');
    }
    const started = performance.now();
    const outcome = await job.run();
    log.info({ ...outcome, durationMs: Math.round(performance.now() - started) }, 'scheduled job ran');
    res.json(outcome);
  });
}
