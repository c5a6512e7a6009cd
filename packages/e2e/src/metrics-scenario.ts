/**
 * The platform with telemetry pointed at an in-test OTLP receiver, and traffic through the
 * public API that makes every metric of the catalogue (@quizmesh/platform/telemetry
 * METRIC_CATALOGUE) move: players register, sign in, browse, start and submit attempts while
 * following the live stream; a malformed completion is dropped and dead-lettered; failed sign-ins
 * hit the login rate limit; the operator reconciles a Quiz file. Used by test/metrics.test.ts,
 * and by any check that needs the metric names the code really emits (`emittedMetricNames`).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventTypeOf } from '@quizmesh/contracts/events';
import { METRIC_CATALOGUE, type CatalogueEntry } from '@quizmesh/platform/telemetry';
import { eventually, missing, OtlpReceiver, type ReceivedDataPoint } from '@quizmesh/platform/testing';
import { PASSWORD, quizBody } from './gateway-client';
import { createCast, E2E_SERVICES, startE2EPlatform, type E2EPlatform } from './platform';
import { SseClient } from './sse';

/** The apps that export (every one of them). */
export const METRIC_SERVICES = ['gateway', ...E2E_SERVICES, 'operator'] as const;

export interface MetricsScenario {
  receiver: OtlpReceiver;
  e2e: E2EPlatform;
  /** kept open until stop(), so the live-stream gauge stays above zero */
  stream: SseClient;
  stop(): Promise<void>;
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
  // Two failed sign-ins per address and account, so the third is a rate-limit rejection.
  Object.assign(serviceEnv.gateway ?? {}, { LOGIN_RATE_LIMIT: '2' });
  Object.assign(serviceEnv.operator ?? {}, { QUIZ_DIR: quizDir });
  let e2e: E2EPlatform | undefined;
  try {
    e2e = await startE2EPlatform({ backends: 'embedded', services: [...E2E_SERVICES, 'operator'], serviceEnv });
    const stream = await driveTraffic(e2e);
    const started = e2e;
    return {
      receiver,
      e2e: started,
      stream,
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

/** What a handful of players and an author do, plus the failure paths the catalogue counts. */
async function driveTraffic(e2e: E2EPlatform): Promise<SseClient> {
  const { gateway } = e2e;
  const cast = await createCast(gateway, 2, 'metrics');
  const [first, second] = cast.players;
  if (!first || !second) throw new Error('createCast gave fewer than two players');
  const quiz = await gateway.publishQuiz(cast.author, quizBody('Measured'));

  // Browse as a player would.
  for (const path of ['/api/v1/quizzes', `/api/v1/quizzes/${quiz.id}`, '/api/v1/status']) {
    const res = await gateway.call('GET', path, { token: first.token });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
  }

  // Follow the live stream, then play: the leaderboard change is written to it.
  const stream = await SseClient.connect(`${e2e.platform.gatewayUrl}/api/v1/stream`, first.token);
  await gateway.play(first, quiz, 3);
  await gateway.play(second, quiz, 1);
  await stream.next((e) => e.event === 'leaderboard', 'a leaderboard event on the live stream');

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
  return stream;
}

/**
 * Starts the platform with telemetry, drives the scenario until every catalogue metric arrived,
 * and answers every metric name the services exported (a dashboard may query only these).
 */
export async function emittedMetricNames(timeoutMs = 90_000): Promise<string[]> {
  const scenario = await startMetricsScenario();
  try {
    await eventually(
      'every catalogue metric',
      async () => {
        const absent = catalogueMissing(scenario.receiver);
        if (absent.length > 0) throw missing(absent.map((m) => m.name).join(', '));
      },
      { timeoutMs, intervalMs: 500 },
    );
    return scenario.receiver.metricNames();
  } finally {
    await scenario.stop();
  }
}
