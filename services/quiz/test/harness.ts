/**
 * Runs quiz in-process for component tests, as in production minus the gateway: a real
 * database (PostgreSQL via createTestDatabase, or the embedded PGlite server) migrated with
 * the platform's migration code, the real local Dapr sidecar (in-process, port 0) with an
 * in-memory state store and pub/sub, quiz's production Subscriptions
 * (components/common/subscriptions-quiz.yaml), the outbox relay, and the app on a port-0 server.
 *
 * The sidecar also delivers what quiz publishes to a test subscriber, and plays evaluation for
 * quiz.completed: it accepts each completion, or DROPs it (→ quiz.completed.deadletter, the
 * compensation path) when the test asked for that attempt's scoring to fail.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import {
  loadConfig,
  ServiceRuntime,
  CALLER_APP_HEADER,
  USER_ID_HEADER,
  USER_ROLES_HEADER,
  type Role,
} from '@quizmesh/platform';
import { applyMigrations } from '@quizmesh/platform/db';
import { createTestDatabase } from '@quizmesh/platform/testing';
import { CLOUDEVENT_CONTENT_TYPE, startOutboxRelay, type OutboxRelay } from '@quizmesh/platform/outbox';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import type { EventContract } from '@quizmesh/contracts/events';
import { quizConfigSchema, type QuizConfig } from '../src/config';
import { createQuizApp } from '../src/app';
import { QuizCache } from '../src/cache';
import { createQuizPrisma, type PrismaClient } from '../src/db';
import type { QuizDeps } from '../src/routes';

export const schemaPath = join(__dirname, '..', 'prisma', 'schema.prisma');
const REPO_ROOT = join(__dirname, '..', '..', '..');
export type Backend = 'postgres' | 'embedded';

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

function resources(dir: string): string {
  const resDir = join(dir, 'resources');
  mkdirSync(resDir);
  const write = (name: string, text: string) => writeFileSync(join(resDir, name), text);
  write(
    'components.yaml',
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: pubsub }
spec: { type: pubsub.in-memory, version: v1, metadata: [] }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: statestore }
spec: { type: state.in-memory, version: v1, metadata: [] }
`,
  );
  // The production Subscriptions, verbatim.
  copyFileSync(
    join(REPO_ROOT, 'components', 'common', 'subscriptions-quiz.yaml'),
    join(resDir, 'subscriptions-quiz.yaml'),
  );
  write(
    'test-subscriptions.yaml',
    `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: test-quiz-published }
spec: { pubsubname: pubsub, topic: quiz.published, routes: { default: ${TEST_SUBSCRIBER_PATH} } }
scopes: [quiz]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: test-attempt-failed }
spec: { pubsubname: pubsub, topic: attempt.failed, routes: { default: ${TEST_SUBSCRIBER_PATH} } }
scopes: [quiz]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: stand-in-evaluation }
spec:
  pubsubname: pubsub
  topic: quiz.completed
  routes: { default: ${STAND_IN_EVALUATION_PATH} }
  deadLetterTopic: quiz.completed.deadletter
scopes: [quiz]
`,
  );
  return resDir;
}

async function database(backend: Backend, dir: string): Promise<{ url: string; close(): Promise<void> }> {
  if (backend === 'postgres') {
    const db = await createTestDatabase('qm_quiz');
    return { url: db.url, close: () => db.drop() };
  }
  return startEmbeddedPostgresProcess(join(dir, 'pglite'));
}

/**
 * The embedded PostgreSQL as the launcher runs it: `quizmesh-embedded-postgres` in a child
 * process (PGlite loads parts of itself with dynamic import(), which jest's sandbox cannot run).
 */
async function startEmbeddedPostgresProcess(dataDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const bin = join(REPO_ROOT, 'packages', 'platform', 'bin', 'quizmesh-embedded-postgres.cjs');
  const child = spawn(process.execPath, [bin, '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(() => reject(new Error(`quizmesh-embedded-postgres exited before ready: ${stderr}`)));
  });
  const url = /ready url=(postgresql:\/\/\S+)$/.exec(line)?.[1];
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  if (!url) {
    await close();
    throw new Error(`unexpected first line from quizmesh-embedded-postgres: ${line}`);
  }
  return { url, close };
}

function readJson(req: http.IncomingMessage): Promise<CapturedEvent['event']> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CapturedEvent['event']));
  });
}

export async function startQuiz(
  options: { backend?: Backend; env?: Record<string, string> } = {},
): Promise<QuizUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-quiz-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const db = await database(options.backend ?? 'postgres', dir);
    cleanups.push(() => db.close());
    await applyMigrations({ schemaPath, databaseUrl: db.url });

    const published: CapturedEvent[] = [];
    const failScoringOf = new Set<string>();
    let handler: http.RequestListener = (_req, res) => {
      res.writeHead(503).end();
    };
    const server = http.createServer((req, res) => {
      if (req.method === 'POST' && (req.url === TEST_SUBSCRIBER_PATH || req.url === STAND_IN_EVALUATION_PATH)) {
        void readJson(req).then((event) => {
          published.push({ topic: String(event.topic), event });
          const drop = req.url === STAND_IN_EVALUATION_PATH && failScoringOf.has(String(event.data.attemptId));
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: drop ? 'DROP' : 'SUCCESS' }));
        });
        return;
      }
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const appPort = (server.address() as AddressInfo).port;

    const sidecar = await startSidecar({
      appId: 'quiz',
      appPort,
      daprHttpPort: 0,
      resourcesPaths: [resources(dir)],
      registryDir: join(dir, 'registry'),
      logLevel: 'silent',
      env: {},
    });
    cleanups.push(() => sidecar.close());

    const config = loadConfig(quizConfigSchema, {
      DATABASE_URL: db.url,
      DAPR_HTTP_PORT: String(sidecar.httpPort),
      LOG_LEVEL: 'debug',
      PORT: '0',
      ...options.env,
    });
    const logLines: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const runtime = new ServiceRuntime({ service: 'quiz', config, logDestination, exit: () => undefined });
    cleanups.push(() => runtime.dapr.close());
    const prisma = createQuizPrisma(config.DATABASE_URL, runtime.logger);
    cleanups.push(() => prisma.$disconnect());
    const relay = startOutboxRelay({
      prisma,
      dapr: runtime.dapr,
      pubsub: config.PUBSUB_NAME,
      logger: runtime.logger,
      source: 'quiz',
      intervalMs: 50,
      backoff: { baseMs: 50, maxMs: 500 },
    });
    cleanups.push(() => relay.stop());
    const deps: QuizDeps = {
      prisma,
      cache: new QuizCache(runtime.dapr, config.STATE_STORE_NAME, config.QUIZ_CACHE_TTL_SECONDS, runtime.logger),
      relay,
      logger: runtime.logger,
      graceSeconds: config.SUBMIT_GRACE_SECONDS,
    };
    handler = createQuizApp(runtime, config, deps);
    await sidecar.ready;

    return {
      url: `http://127.0.0.1:${appPort}`,
      prisma,
      config,
      runtime,
      sidecar,
      relay,
      deps,
      published,
      failScoringOf,
      logLines,
      async deliver(contract, id, data) {
        await runtime.dapr.publish(
          config.PUBSUB_NAME,
          contract.topic,
          {
            specversion: '1.0',
            id,
            source: contract.publisher,
            type: contract.type,
            datacontenttype: 'application/json',
            data,
          },
          { contentType: CLOUDEVENT_CONTENT_TYPE },
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Headers the gateway sets for an authenticated user (trusted only from app id `gateway`). */
export function as(user: { id: string; roles: Role[] }): Record<string, string> {
  return { [CALLER_APP_HEADER]: 'gateway', [USER_ID_HEADER]: user.id, [USER_ROLES_HEADER]: user.roles.join(',') };
}

export function newUser(...roles: Role[]): { id: string; roles: Role[] } {
  return { id: randomUUID(), roles };
}

/** Row counts of every quiz table: "nothing half-written" checks compare these. */
export async function rowCounts(prisma: PrismaClient) {
  const [quizzes, versions, attempts, transitions, outbox, processed] = await Promise.all([
    prisma.quiz.count(),
    prisma.quizVersion.count(),
    prisma.attempt.count(),
    prisma.attemptTransition.count(),
    prisma.outboxEvent.count(),
    prisma.processedEvent.count(),
  ]);
  return { quizzes, versions, attempts, transitions, outbox, processed };
}

/** How many deliveries of `topic` quiz has finished handling (its request log lines for /events/<topic>). */
export function handledDeliveries(quiz: Pick<QuizUnderTest, 'logLines'>, topic: string): number {
  const route = `"url":"/events/${topic}"`;
  return quiz.logLines.filter((line) => line.includes(route) && line.includes('request completed')).length;
}

/** Polls `condition` (no timing assertion: jest's timeout is the only bound). */
export async function eventually(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 25));
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
