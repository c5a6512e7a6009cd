/**
 * Runs quiz in-process for component tests, as in production minus the gateway: a real
 * database (PostgreSQL via createTestDatabase, or the embedded PostgreSQL cluster) migrated with
 * the platform's migration code, the real local Dapr sidecar (in-process, port 0) with an
 * in-memory state store and pub/sub, quiz's production Subscriptions
 * (components/common/subscriptions-quiz.yaml), the outbox relay, and the app on a port-0 server.
 *
 * The sidecar also delivers what quiz publishes to a test subscriber, and plays evaluation for
 * quiz.completed: it accepts each completion, or DROPs it (→ quiz.completed.deadletter, the
 * compensation path) when the test asked for that attempt's scoring to fail.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Role, ServiceRuntime } from '@quizmesh/platform';
import {
  countRows,
  gatewayHeaders,
  publishCloudEvent,
  startHarness,
  type HarnessContext,
  TEST_RELAY_TUNING,
  type TestBackend,
} from '@quizmesh/platform/testing';
import type { OutboxRelay } from '@quizmesh/platform/outbox';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import type { EventContract } from '@quizmesh/contracts/events';
import { quizApp } from '@quizmesh/contracts/registry';
import { BROADCAST_PUBSUB, everyReplicaTopics } from '@quizmesh/contracts/system';
import { quizConfigSchema, type QuizConfig } from '../src/config';
import type { PrismaClient } from '../src/db';
import { createQuiz } from '../src/quiz';
import type { QuizDeps } from '../src/routes';

const REPO_ROOT = join(__dirname, '..', '..', '..');

export interface CapturedEvent {
  topic: string;
  event: Record<string, unknown> & { id: string; data: Record<string, unknown> };
}

export interface QuizUnderTest {
  url: string;
  prisma: PrismaClient;
  config: QuizConfig;
  runtime: ServiceRuntime;
  sidecar: RunningSidecar;
  /** the local sidecar registry: another app's sidecar started with it can invoke quiz */
  registryDir: string;
  relay: OutboxRelay;
  deps: QuizDeps;
  /** CloudEvents quiz published (quiz.published, quiz.completed, attempt.failed) as the sidecar delivered them */
  published: CapturedEvent[];
  /** attempts whose quiz.completed the stand-in evaluation rejects (DROP → dead letter) */
  failScoringOf: Set<string>;
  logLines: string[];
  /** publishes `data` as a CloudEvent of `contract` through the sidecar, as its producer would */
  deliver(contract: EventContract, id: string, data: unknown): Promise<void>;
  stop(): Promise<void>;
}

const TEST_SUBSCRIBER_PATH = '/__test/published';
const STAND_IN_EVALUATION_PATH = '/__test/evaluation';

function resources(harness: HarnessContext): string {
  const folder = harness.resources();
  folder.inMemoryPubsub();
  // What every replica receives (view invalidations) comes through the per-pod component.
  folder.inMemoryPubsub(BROADCAST_PUBSUB);
  folder.stateStore();
  // The production Subscriptions, verbatim.
  folder.copy('subscriptions-quiz.yaml', join(REPO_ROOT, 'components', 'common', 'subscriptions-quiz.yaml'));
  folder.subscriptions('test-subscriptions.yaml', 'quiz', [
    { name: 'test-quiz-published', topic: 'quiz.published', route: TEST_SUBSCRIBER_PATH },
    { name: 'test-attempt-failed', topic: 'attempt.failed', route: TEST_SUBSCRIBER_PATH },
    {
      name: 'stand-in-evaluation',
      topic: 'quiz.completed',
      route: STAND_IN_EVALUATION_PATH,
      deadLetterTopic: 'quiz.completed.deadletter',
    },
  ]);
  return folder.path;
}

export async function startQuiz(
  options: { backend?: TestBackend; env?: Record<string, string> } = {},
): Promise<QuizUnderTest> {
  return startHarness('quiz', async (harness) => {
    const db = await harness.database(options.backend ?? 'postgres', {
      prefix: 'qm_quiz',
      schemaPath: join(__dirname, '..', 'prisma', 'schema.prisma'),
    });

    const published: CapturedEvent[] = [];
    const failScoringOf = new Set<string>();
    const appPort = await harness.appPort({
      capturePaths: [TEST_SUBSCRIBER_PATH, STAND_IN_EVALUATION_PATH],
      onCapture: ({ event }) => published.push({ topic: String(event.topic), event: event as CapturedEvent['event'] }),
      // The stand-in evaluation DROPs the completions the test asked to fail (→ dead letter).
      answer: ({ path, event }) =>
        path === STAND_IN_EVALUATION_PATH && failScoringOf.has(String((event as CapturedEvent['event']).data.attemptId))
          ? 'DROP'
          : 'SUCCESS',
    });

    const sidecar = await startSidecar(
      harness.sidecarOptions({ appId: 'quiz', appPort: appPort.port, resourcesPath: resources(harness) }),
    );
    harness.cleanups.push(() => sidecar.close());

    const { config, runtime, logLines } = harness.runtime({
      service: 'quiz',
      schema: quizConfigSchema,
      daprHttpPort: sidecar.httpPort,
      env: { DATABASE_URL: db.url, ...options.env },
    });
    const { app, prisma, relay, deps } = createQuiz(runtime, config, { relay: TEST_RELAY_TUNING });
    appPort.setHandler(app);
    await sidecar.ready;

    return {
      url: appPort.url,
      prisma,
      config,
      runtime,
      sidecar,
      registryDir: join(harness.dir, 'registry'),
      relay,
      deps,
      published,
      failScoringOf,
      logLines,
      deliver: (contract: EventContract, id: string, data: unknown) =>
        publishCloudEvent(
          runtime,
          everyReplicaTopics(quizApp).includes(contract.topic) ? config.BROADCAST_PUBSUB_NAME : config.PUBSUB_NAME,
          contract,
          id,
          data,
        ),
    };
  });
}

/** Headers the gateway sets for an authenticated user (trusted only from app id `gateway`). */
export function as(user: { id: string; roles: Role[] }): Record<string, string> {
  return gatewayHeaders(user.id, user.roles);
}

export function newUser(...roles: Role[]): { id: string; roles: Role[] } {
  return { id: randomUUID(), roles };
}

/** Row counts of every quiz table: "nothing half-written" checks compare these. */
export function rowCounts(prisma: PrismaClient) {
  return countRows({
    quizzes: prisma.quiz,
    versions: prisma.quizVersion,
    attempts: prisma.attempt,
    transitions: prisma.attemptTransition,
    outbox: prisma.outboxEvent,
    processed: prisma.processedEvent,
  });
}

/** How many deliveries of `topic` quiz has finished handling (its request log lines for /events/<topic>). */
export function handledDeliveries(quiz: Pick<QuizUnderTest, 'logLines'>, topic: string): number {
  const route = `"route":"/events/${topic}"`;
  return quiz.logLines.filter((line) => line.includes(route) && line.includes('request completed')).length;
}

/** A valid quiz body: `n` single-choice questions worth 1..n points, the first option correct. */
export function quizBody(overrides: Record<string, unknown> = {}, n = 2) {
  return {
    title: 'Planets of the solar system',
    description: 'How well do you know our neighbours?',
    tags: ['astronomy', 'science'],
    difficulty: 'easy',
    timeLimitSeconds: 300,
    questions: Array.from({ length: n }, (_, i) => ({
      type: 'single',
      text: `Question ${i + 1}?`,
      points: i + 1,
      explanation: `Because ${i + 1}.`,
      options: [
        { text: 'Right', correct: true },
        { text: 'Wrong', correct: false },
        { text: 'Also wrong', correct: false },
      ],
    })),
    ...overrides,
  };
}
