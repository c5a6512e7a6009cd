/**
 * The pieces every service's in-process test harness needs (services/<svc>/test/harness.ts):
 * its database on either backend, an app port that also captures what the service publishes,
 * its log lines and runtime, cleanups that run in reverse order, the sidecar's options and the
 * Dapr resources files they share. Which resources the sidecar loads is the harness's own (it
 * differs per service); the service is built by its composition root (`create<Service>`), as in
 * production, with `TEST_RELAY_TUNING`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import type { z } from 'zod';
import { loadConfig, type BaseConfig } from '../config';
import { applyMigrations } from '../db';
import { CALLER_APP_HEADER, USER_ID_HEADER, USER_ROLES_HEADER } from '../caller';
import { CLOUDEVENT_CONTENT_TYPE, type OutboxRelayTuning } from '../outbox';
import { ServiceRuntime } from '../runtime';
import { backendUrls, createTestDatabase } from './backends';

/** The outbox relay of a service under test: polls and retries fast, so tests wait milliseconds. */
export const TEST_RELAY_TUNING: OutboxRelayTuning = { intervalMs: 50, backoff: { baseMs: 50, maxMs: 500 } };

export type TestBackend = 'postgres' | 'embedded';

export interface ServiceTestDatabase {
  url: string;
  close(): Promise<void>;
}

const EMBEDDED_POSTGRES_BIN = join(__dirname, '..', '..', 'bin', 'quizmesh-embedded-postgres.cjs');

/**
 * `quizmesh-embedded-postgres` (a real PostgreSQL cluster) in a child process, as the launcher runs
 * it. `close()` stops it and resolves with its exit code.
 */
export async function startEmbeddedPostgresProcess(
  dataDir: string,
): Promise<{ url: string; close(): Promise<number | null> }> {
  const child = spawn(process.execPath, [EMBEDDED_POSTGRES_BIN, '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const readyLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) =>
      reject(new Error(`quizmesh-embedded-postgres exited with ${code} before ready: ${stderr}`)),
    );
  });
  const close = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  const url = /^quizmesh-embedded-postgres: ready url=(postgresql:\/\/\S+)$/.exec(readyLine)?.[1];
  if (!url) {
    await close();
    throw new Error(`unexpected first line from quizmesh-embedded-postgres: ${readyLine}`);
  }
  return { url, close };
}

/** A fresh database: on the machine's PostgreSQL (dropped on close) or an embedded cluster under `dir`. */
export async function createServiceTestDatabase(
  backend: TestBackend,
  options: { prefix: string; dir: string },
): Promise<ServiceTestDatabase> {
  if (backend === 'postgres') {
    const db = await createTestDatabase(options.prefix);
    return { url: db.url, close: () => db.drop() };
  }
  const embedded = await startEmbeddedPostgresProcess(join(options.dir, 'postgres'));
  return { url: embedded.url, close: async () => void (await embedded.close()) };
}

/** Cleanups registered while a harness starts, run last-first by `run()` (also after a failed start). */
export class Cleanups {
  private readonly steps: Array<() => Promise<void> | void> = [];

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step();
  }
}

export interface CapturedDelivery {
  /** the path the sidecar delivered to */
  path: string;
  /** the CloudEvent as delivered */
  event: Record<string, unknown> & { data?: unknown; topic?: unknown };
}

export interface AppPort {
  port: number;
  url: string;
  /** the service's app, once built (until then requests answer 503, as an app still starting) */
  setHandler(handler: http.RequestListener): void;
  close(): Promise<void>;
}

/**
 * The port the sidecar calls as the app. POSTs to `capturePaths` are recorded (test
 * subscriptions to what the service publishes) and answered with `answer(delivery)` (default
 * SUCCESS); everything else goes to the service's app.
 */
export async function startAppPort(options: {
  capturePaths: readonly string[];
  onCapture: (delivery: CapturedDelivery) => void;
  answer?: (delivery: CapturedDelivery) => 'SUCCESS' | 'RETRY' | 'DROP';
}): Promise<AppPort> {
  let handler: http.RequestListener = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    if (req.method === 'POST' && options.capturePaths.includes(path)) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const delivery = {
          path,
          event: JSON.parse(Buffer.concat(chunks).toString('utf8')) as CapturedDelivery['event'],
        };
        options.onCapture(delivery);
        const status = options.answer?.(delivery) ?? 'SUCCESS';
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      });
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setHandler(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A pino destination that keeps every line (ServiceRuntime's `logDestination`). */
export function captureLogLines(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

/**
 * What a harness starts its service with. Every part it hands out is closed by `stop()`
 * (last-first), or at once when the start fails.
 */
export interface HarnessContext {
  /** the harness's own temporary folder (removed at stop) */
  dir: string;
  cleanups: Cleanups;
  /** a fresh database on `backend`, migrated to the service's schema */
  database(backend: TestBackend, options: { prefix: string; schemaPath: string }): Promise<ServiceTestDatabase>;
  appPort(options: Parameters<typeof startAppPort>[0]): Promise<AppPort>;
  /** the sidecar's resources folder */
  resources(): ResourcesFolder;
  /**
   * the options of the service's own local sidecar (`startSidecar` of @quizmesh/sidecar), quiet;
   * `registryDir`: another harness's local registry, so the service can invoke that one's app
   */
  sidecarOptions(options: {
    appId: string;
    appPort: number;
    resourcesPath: string;
    daprHttpPort?: number;
    registryDir?: string;
  }): ReturnType<typeof testSidecarOptions>;
  /**
   * The service's config (debug logs, port 0, its sidecar's port, then `env`) and its runtime with
   * every log line kept; `stop()` runs the runtime's shutdown (relay, database, Dapr client), as
   * in production.
   */
  runtime<S extends z.ZodType<BaseConfig>>(options: {
    service: string;
    schema: S;
    daprHttpPort: number;
    env: Record<string, string | undefined>;
  }): { config: z.infer<S>; runtime: ServiceRuntime; logLines: string[] };
}

/**
 * Starts a harness in a fresh temporary folder: `start` builds the service with the context's
 * parts; if it throws, what it started is closed at once (nothing is left behind), else `stop()`
 * closes it.
 */
export async function startHarness<T>(
  service: string,
  start: (context: HarnessContext) => Promise<T>,
): Promise<T & { stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `qm-${service}-`));
  const cleanups = new Cleanups();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const stop = () => cleanups.run();
  const context: HarnessContext = {
    dir,
    cleanups,
    async database(backend, options) {
      const db = await createServiceTestDatabase(backend, { prefix: options.prefix, dir });
      cleanups.push(() => db.close());
      await applyMigrations({ schemaPath: options.schemaPath, databaseUrl: db.url });
      return db;
    },
    async appPort(options) {
      const appPort = await startAppPort(options);
      cleanups.push(() => appPort.close());
      return appPort;
    },
    resources: () => resourcesFolder(dir),
    sidecarOptions: (options) => testSidecarOptions({ ...options, dir }),
    runtime: (options) => startTestRuntime({ ...options, cleanups }),
  };
  try {
    return { ...(await start(context)), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function testSidecarOptions(options: {
  appId: string;
  appPort: number;
  dir: string;
  resourcesPath: string;
  daprHttpPort?: number;
  registryDir?: string;
}) {
  return {
    appId: options.appId,
    appPort: options.appPort,
    daprHttpPort: options.daprHttpPort ?? 0,
    resourcesPaths: [options.resourcesPath],
    registryDir: options.registryDir ?? join(options.dir, 'registry'),
    logLevel: 'silent' as const,
    env: {},
  };
}

function startTestRuntime<T extends z.ZodType<BaseConfig>>(options: {
  service: string;
  schema: T;
  daprHttpPort: number;
  env: Record<string, string | undefined>;
  cleanups: Cleanups;
}): { config: z.infer<T>; runtime: ServiceRuntime; logLines: string[] } {
  const config = loadConfig(options.schema, {
    DAPR_HTTP_PORT: String(options.daprHttpPort),
    LOG_LEVEL: 'debug',
    PORT: '0',
    ...options.env,
  });
  const { lines: logLines, destination: logDestination } = captureLogLines();
  const runtime = new ServiceRuntime({ service: options.service, config, logDestination, exit: () => undefined });
  options.cleanups.push(async () => {
    await runtime.shutdown.shutdown();
  });
  return { config, runtime, logLines };
}

/** The headers the gateway forwards for an authenticated user (trusted only from app id `gateway`). */
export function gatewayHeaders(userId: string, roles: readonly string[]): Record<string, string> {
  return { [CALLER_APP_HEADER]: 'gateway', [USER_ID_HEADER]: userId, [USER_ROLES_HEADER]: roles.join(',') };
}

/** Publishes `data` as a CloudEvent of `contract` with this id through the sidecar, as its producer would. */
export async function publishCloudEvent(
  runtime: ServiceRuntime,
  pubsubName: string,
  contract: { topic: string; type: string; publisher: string },
  id: string,
  data: unknown,
): Promise<void> {
  await runtime.dapr.publish(
    pubsubName,
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
}

/** A Dapr Component with no metadata (in-memory pub/sub or state store). */
function componentYaml(name: string, type: string): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec: { type: ${type}, version: v1, metadata: [] }
`;
}

export interface SubscriptionSpec {
  name: string;
  topic: string;
  route: string;
  deadLetterTopic?: string;
}

/** A Dapr Subscription on the `pubsub` component, scoped to `scope`. */
function subscriptionYaml(spec: SubscriptionSpec, scope: string): string {
  const deadLetter = spec.deadLetterTopic ? `\n  deadLetterTopic: ${spec.deadLetterTopic}` : '';
  return `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: ${spec.name} }
spec:
  pubsubname: pubsub
  topic: ${spec.topic}
  routes: { default: ${spec.route} }${deadLetter}
scopes: [${scope}]
`;
}

/**
 * The `statestore` Component: Redis (the machine's) under `redisKeyPrefix`, which keeps runs
 * apart (Dapr's keys are `<prefix>||<key>`), or in memory when there is none.
 */
function stateStoreYaml(redisKeyPrefix: string | undefined): string {
  if (redisKeyPrefix === undefined) return componentYaml('statestore', 'state.in-memory');
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: statestore }
spec:
  type: state.redis
  version: v1
  metadata:
    - { name: redisHost, value: "${new URL(backendUrls.redis).host}" }
    - { name: keyPrefix, value: "${redisKeyPrefix}" }
`;
}

/** The resources folder of a service's sidecar, and the files the harnesses put in it. */
export interface ResourcesFolder {
  path: string;
  write(file: string, text: string): void;
  /** a production resources file, verbatim */
  copy(file: string, source: string): void;
  /** `<name>.yaml`: an in-memory pub/sub named `name` (`pubsub` by default) */
  inMemoryPubsub(name?: string): void;
  /** `statestore.yaml`: Redis under `redisKeyPrefix`, or in memory without one */
  stateStore(redisKeyPrefix?: string): void;
  /** Subscriptions on `pubsub` scoped to the app `scope`, in one file */
  subscriptions(file: string, scope: string, specs: readonly SubscriptionSpec[]): void;
}

export function resourcesFolder(dir: string): ResourcesFolder {
  const path = join(dir, 'resources');
  mkdirSync(path);
  const write = (file: string, text: string) => writeFileSync(join(path, file), text);
  return {
    path,
    write,
    copy: (file, source) => copyFileSync(source, join(path, file)),
    inMemoryPubsub: (name = 'pubsub') => write(`${name}.yaml`, componentYaml(name, 'pubsub.in-memory')),
    stateStore: (redisKeyPrefix) => write('statestore.yaml', stateStoreYaml(redisKeyPrefix)),
    subscriptions: (file, scope, specs) =>
      write(file, specs.map((spec) => subscriptionYaml(spec, scope)).join('---\n')),
  };
}

/** Row counts of the given tables (Prisma delegates): "nothing half-written" checks compare these. */
export async function countRows<Table extends string>(
  tables: Record<Table, { count(): Promise<number> }>,
): Promise<Record<Table, number>> {
  const entries = Object.entries(tables) as Array<[Table, { count(): Promise<number> }]>;
  const counts = await Promise.all(entries.map(([, delegate]) => delegate.count()));
  return Object.fromEntries(entries.map(([table], i) => [table, counts[i]])) as Record<Table, number>;
}
