/**
 * The platform with telemetry pointed at an in-test OTLP receiver, and traffic that makes every
 * metric of the catalogue (@quizmesh/platform/telemetry METRIC_CATALOGUE) move: the load generator
 * (`npm run load`, packages/load) plays for a few seconds through the public API (players sign in,
 * browse, start and submit attempts while following the live stream; the admin publishes); then
 * what it cannot do: a completion for a quiz version evaluation has no answer key for is retried,
 * a malformed completion is dropped and dead-lettered, failed sign-ins hit the login rate limit,
 * quiz goes down for a moment and the gateway's breaker for it opens, the operator reconciles a
 * Quiz file. Used by test/metrics.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventTypeOf } from '@quizmesh/contracts/events';
import { METRIC_CATALOGUE, type CatalogueEntry } from '@quizmesh/platform/telemetry';
import { eventually, missing, OtlpReceiver, type ReceivedDataPoint } from '@quizmesh/platform/testing';
import { PASSWORD } from './gateway-client';
import { runLoadCommand } from './load-command';
import { ADMIN_EMAIL, createCast, E2E_SERVICES, startE2EPlatform, type E2EPlatform } from './platform';
import { SseClient } from './sse';

/** The apps that export (every one of them). */
export const METRIC_SERVICES = ['gateway', ...E2E_SERVICES, 'operator'] as const;

export interface MetricsScenario {
  receiver: OtlpReceiver;
  e2e: E2EPlatform;
  /** kept open until stop(), so the live-stream gauge stays above zero */
  stream: SseClient;
  /** the load generator's JSON summary (packages/load LoadSummary; read here without importing it) */
  load: LoadRunSummary;
  stop(): Promise<void>;
}

/** The fields of the load generator's summary the scenario and its test read. */
export interface LoadRunSummary {
  ok: boolean;
  problems: string[];
  submissions: { accepted: number };
  errors: { total: number };
}

/** `npm run load -- --url <gateway> …` for a few seconds; answers its JSON summary. */
async function runLoadGenerator(gatewayUrl: string): Promise<LoadRunSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-metrics-load-'));
  const args = ['--url', gatewayUrl, '--duration', '5', '--players', '3', '--rate', '1'];
  args.push('--accounts', 'metrics-load', '--author-email', ADMIN_EMAIL, '--publish-every', '2');
  try {
    const run = await runLoadCommand<LoadRunSummary>({ args, out: join(dir, 'load.json'), authorPassword: PASSWORD });
    if (run.code !== 0 || !run.summary.ok)
      throw new Error(
        `npm run load failed (exit ${String(run.code)}): ${run.summary.problems.join('; ')}\n${run.stdout}\n${run.stderr}`,
      );
    return run.summary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A data point whose value shows the metric moved: a histogram with measurements, a positive sum or gauge. */
export function isNonZero(point: ReceivedDataPoint): boolean {
  return point.kind === 'histogram' ? (point.count ?? 0) > 0 : point.value > 0;
}

/** The catalogue entries without a non-zero data point yet. */
export function catalogueMissing(receiver: OtlpReceiver): CatalogueEntry[] {
  return METRIC_CATALOGUE.filter((m) => !receiver.pointsOf(m.name).some(isNonZero));
}

function writeQuizResource(dir: string): void {
  writeFileSync(
    join(dir, 'metrics.yaml'),
    stringify({
      apiVersion: 'quizmesh.io/v1alpha1',
      kind: 'Quiz',
      metadata: { name: 'metrics' },
      spec: {
        title: 'Reconciled for the metrics test',
        difficulty: 'easy',
        timeLimitSeconds: 60,
        publish: true,
        questions: [
          {
            type: 'single',
            text: 'The capital of Italy?',
            options: [
              { text: 'Rome', correct: true },
              { text: 'Milan', correct: false },
            ],
          },
        ],
      },
    }),
  );
}

export async function startMetricsScenario(): Promise<MetricsScenario> {
  const receiver = await OtlpReceiver.start();
  const quizDir = mkdtempSync(join(tmpdir(), 'qm-metrics-quizzes-'));
  writeQuizResource(quizDir);
  // Export every 500 ms instead of every 60 s, so the data arrives while the test waits.
  const telemetry = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const serviceEnv: Record<string, Record<string, string>> = Object.fromEntries(
    METRIC_SERVICES.map((s) => [s, { ...telemetry }]),
  );
  // Two failed sign-ins per address and account, so the third is a rate-limit rejection; the
  // breaker opens after two failed calls and stays open for a second only, so quiz's outage
  // (driveTraffic) pauses calls to it briefly.
  Object.assign(serviceEnv.gateway ?? {}, { LOGIN_RATE_LIMIT: '2', BREAKER_MIN_CALLS: '2', BREAKER_OPEN_MS: '1000' });
  Object.assign(serviceEnv.operator ?? {}, { QUIZ_DIR: quizDir });
  let e2e: E2EPlatform | undefined;
  try {
    e2e = await startE2EPlatform({ backends: 'embedded', services: [...E2E_SERVICES, 'operator'], serviceEnv });
    const { stream, load } = await driveTraffic(e2e);
    const started = e2e;
    return {
      receiver,
      e2e: started,
      stream,
      load,
      stop: async () => {
        stream.close();
        await started.stop();
        await receiver.close();
        rmSync(quizDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await e2e?.stop();
    await receiver.close();
    rmSync(quizDir, { recursive: true, force: true });
    throw err;
  }
}

/** The load generator's players and author, plus the failure paths the catalogue counts. */
async function driveTraffic(e2e: E2EPlatform): Promise<{ stream: SseClient; load: LoadRunSummary }> {
  const { gateway } = e2e;
  // The admin the load generator publishes as (ADMIN_EMAIL, the bootstrap admin), and a player
  // whose live stream stays open until stop(), so the live-stream gauge stays above zero.
  const cast = await createCast(gateway, 1, 'metrics');
  const [watcher] = cast.players;
  if (!watcher) throw new Error('createCast gave no player');
  const stream = await SseClient.connect(`${e2e.platform.gatewayUrl}/api/v1/stream`, watcher.token);
  const load = await runLoadGenerator(e2e.platform.gatewayUrl);

  // A quiz view the gateway keeps, read until it is served from the gateway's cache: the load's
  // own reads may all miss (each scoring purges the view, and a fill right after a purge is not
  // kept), so the cache's hits are made sure of here.
  const catalogue = (await (await gateway.call('GET', '/api/v1/quizzes')).json()) as { items: Array<{ id: string }> };
  const quizId = catalogue.items[0]?.id;
  if (!quizId) throw new Error('the load generator published no quiz');
  await eventually('a quiz view served from the gateway cache', async () => {
    const res = await gateway.call('GET', `/api/v1/quizzes/${quizId}`);
    await res.arrayBuffer();
    if (res.headers.get('cache-status') !== 'gateway; hit')
      throw missing(`cache-status ${res.headers.get('cache-status')}`);
  });

  // A completion of a quiz version whose quiz.published evaluation never saw (as when events
  // arrive out of order): no answer key yet, so evaluation answers RETRY until Dapr gives up.
  await e2e.publishAs('quiz', 'quiz.completed', {
    specversion: '1.0',
    id: randomUUID(),
    source: 'quiz',
    type: eventTypeOf('quiz.completed', 1),
    datacontenttype: 'application/json',
    data: {
      schemaVersion: 1,
      attemptId: randomUUID(),
      quizId: randomUUID(),
      quizVersion: 1,
      userId: randomUUID(),
      answers: [],
      startedAt: new Date(Date.now() - 10_000).toISOString(),
      submittedAt: new Date().toISOString(),
      deadlineAt: new Date(Date.now() + 50_000).toISOString(),
      late: false,
    },
  });

  // A completion whose data breaks the contract: evaluation drops it to quiz.completed.deadletter,
  // where evaluation and quiz keep it open for an admin.
  await e2e.publishAs('quiz', 'quiz.completed', {
    specversion: '1.0',
    id: randomUUID(),
    source: 'quiz',
    type: eventTypeOf('quiz.completed', 1),
    datacontenttype: 'application/json',
    data: { schemaVersion: 1, attemptId: 'not-a-uuid' },
  });

  // Sign-ins with a wrong password until the gateway's login limit answers 429.
  const login = { email: `metrics.nobody.${randomUUID()}@example.com`, password: `${PASSWORD} wrong` };
  await eventually('a 429 from the login limit', async () => {
    const res = await gateway.call('POST', '/api/v1/auth/login', { body: login });
    if (res.status !== 429) throw missing(`login answered ${res.status}`);
  });

  // An event waiting in identity's outbox (as after a failed publish, backing off for an hour):
  // the backlog and its age are then above zero at every collection.
  await e2e.query(
    'identity',
    `INSERT INTO "OutboxEvent" ("id", "topic", "type", "data", "createdAt", "availableAt")
     VALUES ($1, 'user.renamed', $2, '{}'::jsonb, now() - interval '5 seconds', now() + interval '1 hour')`,
    [randomUUID(), eventTypeOf('user.renamed', 1)],
  );

  // Quiz down for a moment: the calls to it fail, the gateway's breaker for quiz opens and
  // answers 503 without trying (a circuit_open rejection); then quiz comes back.
  await e2e.platform.stopService('quiz', { signal: 'SIGKILL' });
  try {
    await eventually('a 503 from the open breaker for quiz', async () => {
      const res = await gateway.call('GET', '/api/v1/quizzes');
      const detail = ((await res.json()) as { detail?: string }).detail ?? '';
      if (!/circuit breaker open/.test(detail)) throw missing(`GET /api/v1/quizzes answered ${res.status}: ${detail}`);
    });
  } finally {
    await e2e.platform.startService('quiz');
  }
  return { stream, load };
}
