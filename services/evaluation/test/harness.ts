/**
 * Runs evaluation in-process for component tests, as in production minus the gateway: a real
 * database (PostgreSQL via createTestDatabase, or the embedded PostgreSQL cluster in a child
 * process, as the launcher runs it) migrated with the platform's migration code, a leaderboard
 * store (real Redis under a unique key prefix, or the in-process board), the real local Dapr
 * sidecar (in-process, port 0) with in-memory pub/sub, a state store for the dead letters
 * (state.redis under a unique key prefix, or state.in-memory) and evaluation's production
 * Subscriptions (components/common/subscriptions-evaluation.yaml), the outbox relay, and the
 * app on port 0.
 *
 * What evaluation publishes is captured by a test subscriber; `deliver()` posts a CloudEvent to
 * the app exactly as the sidecar does and returns the outcome the app answered.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Role } from '@quizmesh/platform';
import {
  backendUrls,
  countRows,
  deleteRedisKeys,
  gatewayHeaders,
  redisKeyPrefix,
  startHarness,
  type HarnessContext,
  TEST_RELAY_TUNING,
  uniqueName,
} from '@quizmesh/platform/testing';
import type { OutboxRelay } from '@quizmesh/platform/outbox';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import type { QuizCompleted, QuizPublished, UserRegistered } from '@quizmesh/contracts/events';
import { evaluationConfigSchema, type EvaluationConfig } from '../src/config';
import type { PrismaClient } from '../src/db';
import { createEvaluation } from '../src/evaluation';
import type { LeaderboardStore } from '../src/leaderboard';

const SUBSCRIPTIONS_FILE = join(__dirname, '..', '..', '..', 'components', 'common', 'subscriptions-evaluation.yaml');
export type Backend = 'postgres+redis' | 'embedded';

export interface CapturedEvent {
  topic: string;
  event: Record<string, unknown>;
}

export interface EvaluationUnderTest {
  url: string;
  prisma: PrismaClient;
  store: LeaderboardStore;
  config: EvaluationConfig;
  sidecar: RunningSidecar;
  relay: OutboxRelay;
  /** CloudEvents evaluation published (score.calculated, leaderboard.updated), as delivered */
  published: CapturedEvent[];
  logLines: string[];
  /** posts a CloudEvent to /events/<topic> as the sidecar would; resolves with the answered outcome */
  deliver(topic: string, data: unknown, eventId?: string): Promise<string>;
  /** publishes through the sidecar, so the Subscription resources route it */
  publish(topic: string, data: unknown): Promise<void>;
  stop(): Promise<void>;
}

const TEST_SUBSCRIBER_PATH = '/__test/published';

function resources(harness: HarnessContext, backend: Backend, stateKeyPrefix: string): string {
  const folder = harness.resources();
  folder.inMemoryPubsub();
  // The dead letters' state store: Redis under the test's own key prefix, or in memory (embedded).
  folder.stateStore(backend === 'postgres+redis' ? stateKeyPrefix : undefined);
  // The production Subscriptions, plus a test subscriber for what evaluation publishes.
  folder.copy('subscriptions-evaluation.yaml', SUBSCRIPTIONS_FILE);
  folder.subscriptions(
    'test-subscriptions.yaml',
    'evaluation',
    ['score.calculated', 'leaderboard.updated'].map((topic) => ({
      name: `test-${topic.replace('.', '-')}`,
      topic,
      route: TEST_SUBSCRIBER_PATH,
    })),
  );
  return folder.path;
}

export async function startEvaluation(options: {
  backend: Backend;
  env?: Record<string, string>;
  /** another harness's local sidecar registry (quiz's), so evaluation can invoke that app */
  registryDir?: string;
}): Promise<EvaluationUnderTest> {
  return startHarness('evaluation', async (harness) => {
    const db = await harness.database(options.backend === 'postgres+redis' ? 'postgres' : 'embedded', {
      prefix: 'qm_evaluation',
      schemaPath: join(__dirname, '..', 'prisma', 'schema.prisma'),
    });
    // Leaderboards in Redis under this run's own key prefix (deleted at the end), or in process.
    const boardsEnv: Record<string, string> = {};
    if (options.backend === 'postgres+redis') {
      const keyPrefix = redisKeyPrefix('qm_eval');
      boardsEnv.REDIS_URL = backendUrls.redis;
      boardsEnv.LEADERBOARD_KEY_PREFIX = keyPrefix;
      harness.cleanups.push(async () => {
        await deleteRedisKeys(`${keyPrefix}*`);
      });
    }

    const published: CapturedEvent[] = [];
    const appPort = await harness.appPort({
      capturePaths: [TEST_SUBSCRIBER_PATH],
      onCapture: ({ event }) => published.push({ topic: String(event.topic), event }),
    });

    // Dapr's Redis keys are `<prefix>||<key>`: the prefix (no `||` of its own) keeps runs apart.
    const stateKeyPrefix = uniqueName('qm_eval_state');
    if (options.backend === 'postgres+redis') {
      harness.cleanups.push(async () => {
        await deleteRedisKeys(`${stateKeyPrefix}*`);
      });
    }
    const sidecar = await startSidecar(
      harness.sidecarOptions({
        appId: 'evaluation',
        appPort: appPort.port,
        resourcesPath: resources(harness, options.backend, stateKeyPrefix),
        ...(options.registryDir ? { registryDir: options.registryDir } : {}),
      }),
    );
    harness.cleanups.push(() => sidecar.close());

    // The relay, the leaderboards, the database and the Dapr client close as in production.
    const { config, runtime, logLines } = harness.runtime({
      service: 'evaluation',
      schema: evaluationConfigSchema,
      daprHttpPort: sidecar.httpPort,
      env: { DATABASE_URL: db.url, LEADERBOARD_EVENT_TOP: '3', ...boardsEnv, ...options.env },
    });
    const { app, prisma, store, relay } = await createEvaluation(runtime, config, { relay: TEST_RELAY_TUNING });
    appPort.setHandler(app);
    await sidecar.ready;
    const { url } = appPort;

    return {
      url,
      prisma,
      store,
      config,
      sidecar,
      relay,
      published,
      logLines,
      async deliver(topic, data, eventId = randomUUID()) {
        const res = await fetch(`${url}/events/${topic}`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({
            specversion: '1.0',
            id: eventId,
            source: 'quiz',
            type: `dev.quizmesh.${topic}.v1`,
            topic,
            pubsubname: 'pubsub',
            datacontenttype: 'application/json',
            data,
          }),
        });
        if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
        return ((await res.json()) as { status: string }).status;
      },
      async publish(topic, data) {
        const res = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/publish/pubsub/${topic}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(data),
        });
        if (res.status !== 204) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
      },
    };
  });
}

/** The headers the gateway forwards for an authenticated user (through its sidecar). */
export function asUser(userId: string, ...roles: Role[]): Record<string, string> {
  return gatewayHeaders(userId, roles.length ? roles : ['player']);
}

// ------------------------------------------------------------------------------ event builders

export interface QuizFixture {
  quizId: string;
  version: number;
  /** question ids in order; q[i] has options opts[i] (4 each) */
  questions: Array<{
    questionId: string;
    type: 'single' | 'multiple';
    points: number;
    optionIds: string[];
    correctOptionIds: string[];
  }>;
  published: QuizPublished;
}

/** A quiz with a single-choice question (2 points) and a multiple-choice one (3 points, two correct). */
export function makeQuiz(overrides: { quizId?: string; version?: number } = {}): QuizFixture {
  const options = () => Array.from({ length: 4 }, () => randomUUID());
  const single = options();
  const multiple = options();
  const questions = [
    {
      questionId: randomUUID(),
      type: 'single' as const,
      points: 2,
      optionIds: single,
      correctOptionIds: [single[1] ?? ''],
    },
    {
      questionId: randomUUID(),
      type: 'multiple' as const,
      points: 3,
      optionIds: multiple,
      correctOptionIds: [multiple[0] ?? '', multiple[2] ?? ''],
    },
  ];
  const quizId = overrides.quizId ?? randomUUID();
  const version = overrides.version ?? 1;
  return {
    quizId,
    version,
    questions,
    published: {
      schemaVersion: 1,
      quizId,
      version,
      authorId: randomUUID(),
      title: 'Capitals of Europe',
      difficulty: 'easy',
      timeLimitSeconds: 600,
      questionCount: questions.length,
      maxScore: 5,
      questions,
      publishedAt: '2026-11-16T08:00:00.000Z',
    },
  };
}

/** A completed attempt; `answers` default to all correct. */
export function makeAttempt(
  quiz: QuizFixture,
  overrides: Partial<Pick<QuizCompleted, 'attemptId' | 'userId' | 'submittedAt' | 'late' | 'answers'>> = {},
): QuizCompleted {
  const submittedAt = overrides.submittedAt ?? '2026-11-18T12:00:30.000Z';
  return {
    schemaVersion: 1,
    attemptId: overrides.attemptId ?? randomUUID(),
    quizId: quiz.quizId,
    quizVersion: quiz.version,
    userId: overrides.userId ?? randomUUID(),
    answers:
      overrides.answers ?? quiz.questions.map((q) => ({ questionId: q.questionId, optionIds: q.correctOptionIds })),
    startedAt: new Date(new Date(submittedAt).getTime() - 60_000).toISOString(),
    submittedAt,
    deadlineAt: new Date(new Date(submittedAt).getTime() + 540_000).toISOString(),
    late: overrides.late ?? false,
  };
}

export function makeRegistration(userId: string, displayName: string): UserRegistered {
  return {
    schemaVersion: 1,
    userId,
    email: `${userId.slice(0, 8)}@example.com`,
    displayName,
    roles: ['player'],
    registeredAt: '2026-11-01T09:00:00.000Z',
  };
}

/** Row counts of every evaluation table: "nothing half-written" checks compare these. */
export interface RowCounts {
  answerKeys: number;
  results: number;
  players: number;
  boardEntries: number;
  outbox: number;
  processed: number;
}

export function rowCounts(prisma: PrismaClient): Promise<RowCounts> {
  return countRows({
    answerKeys: prisma.answerKey,
    results: prisma.result,
    players: prisma.player,
    boardEntries: prisma.boardEntry,
    outbox: prisma.outboxEvent,
    processed: prisma.processedEvent,
  });
}
