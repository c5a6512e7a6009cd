/**
 * At-least-once delivery on real RabbitMQ: every message the publish API accepted (204)
 * reaches the subscriber app although the consumer is SIGKILLed mid-stream, and although
 * the broker itself restarts mid-stream.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { createTestVhost, uniqueName, type TestVhost } from '@quizmesh/platform/testing';
import { withoutHealthChecks } from '../src/app-channel/channel';
import type { PubSubRuntime } from '../src/pubsub/types';
import { createPubSubRuntime } from '../src/pubsub';
import { FixedRetryResiliency, waitUntil } from './pubsub-fixtures';

jest.setTimeout(120_000);
const run = promisify(execFile);
const MESSAGES = 10_000;
const PUBLISH_CONCURRENCY = 64;

let vhost: TestVhost;
let workDir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  vhost = await createTestVhost('qm_durable');
  workDir = mkdtempSync(join(tmpdir(), 'qm-durability-'));
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await run('rabbitmqctl', ['await_startup']);
  await vhost.drop();
  rmSync(workDir, { recursive: true, force: true });
});

function startConsumer(topic: string, outFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@quizmesh/source', '--import', 'tsx', join(__dirname, 'pubsub-durability-consumer.ts')],
    {
      env: {
        ...process.env,
        DURABILITY_URL: vhost.url,
        DURABILITY_OUT: outFile,
        DURABILITY_TOPIC: topic,
        DURABILITY_LOG: `${outFile}.consumer.log`,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`consumer exited early with ${code}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function delivered(outFile: string): Set<string> {
  if (!existsSync(outFile)) return new Set();
  return new Set(
    readFileSync(outFile, 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
}

/**
 * Waits until every id was delivered; a timeout names how many are missing, which, and the
 * consumer's and publisher's own runtime logs (connection lost, reconnected, consuming...).
 */
async function waitForEveryId(outFile: string, timeoutMs: number): Promise<void> {
  try {
    await waitUntil('every accepted message delivered', () => delivered(outFile).size >= MESSAGES, timeoutMs);
  } catch (err) {
    const seen = delivered(outFile);
    const missing = allIds().filter((id) => !seen.has(id));
    const tail = (file: string) =>
      existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-40).join('\n') : '(no log)';
    throw new Error(
      `${(err as Error).message}: ${missing.length} of ${MESSAGES} never delivered ` +
        `(first: ${missing.slice(0, 10).join(', ')})\n` +
        `consumer runtime log:\n${tail(`${outFile}.consumer.log`)}\npublisher runtime log:\n${tail(`${outFile}.publisher.log`)}`,
      { cause: err },
    );
  }
}

async function createPublisher(logFile: string): Promise<PubSubRuntime> {
  return createPubSubRuntime({
    appId: 'durable-publisher',
    components: [
      {
        name: 'ps',
        type: 'pubsub.rabbitmq',
        version: 'v1',
        ignoreErrors: false,
        scopes: [],
        sourceFile: 'durability',
        metadata: {
          connectionString: vhost.url,
          durable: 'true',
          deletedWhenUnused: 'false',
          deliveryMode: '2',
          publisherConfirm: 'true',
          reconnectWaitSeconds: '1',
        },
      },
    ],
    declarativeSubscriptions: [],
    app: {
      ...withoutHealthChecks,
      appId: 'durable-publisher',
      baseUrl: undefined,
      appApiToken: undefined,
      waitUntilReady: async () => undefined,
    },
    resiliency: new FixedRetryResiliency(1),
    logger: pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true })),
  });
}

/**
 * Publishes ids m-0..m-(count-1); a refused publish (500 while the broker is away) is
 * retried with the same id, like an outbox relay would. `onProgress` runs after each 204.
 */
async function publishAll(
  publisher: PubSubRuntime,
  topic: string,
  count: number,
  onProgress: (accepted: number) => Promise<void> | void,
  gate: () => Promise<void> = async () => undefined,
) {
  let next = 0;
  let accepted = 0;
  let refused = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      await gate();
      if (next >= count) return;
      const id = `m-${next++}`;
      for (;;) {
        const result = await publisher.publish({
          pubsubName: 'ps',
          topic,
          body: Buffer.from(JSON.stringify({ id })),
          contentType: 'application/json',
          metadata: { 'cloudevent.id': id },
          traceparent: undefined,
          tracestate: undefined,
        });
        if (result.status === 204) break;
        refused++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      accepted++;
      await onProgress(accepted);
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, worker));
  return { accepted, refused };
}

const allIds = (): string[] => Array.from({ length: MESSAGES }, (_, i) => `m-${i}`);

test('no accepted message is lost when the consumer is SIGKILLed and restarted', async () => {
  const topic = uniqueName('durable_kill');
  const outFile = join(workDir, `${topic}.log`);
  let consumer = await startConsumer(topic, outFile);
  const publisher = await createPublisher(`${outFile}.publisher.log`);
  let killed = false;
  try {
    const { accepted } = await publishAll(publisher, topic, MESSAGES, async (count) => {
      if (!killed && count >= MESSAGES / 3) {
        killed = true;
        await waitUntil('some deliveries before the crash', () => delivered(outFile).size > 0, 30_000);
        await kill(consumer);
      }
    });
    expect(killed).toBe(true);
    expect(accepted).toBe(MESSAGES);
    consumer = await startConsumer(topic, outFile);
    await waitForEveryId(outFile, 60_000);
    const seen = delivered(outFile);
    expect(allIds().filter((id) => !seen.has(id))).toEqual([]);
  } finally {
    await publisher.close();
    await kill(consumer);
  }
});

test('no accepted message is lost when RabbitMQ itself restarts mid-stream', async () => {
  const topic = uniqueName('durable_restart');
  const outFile = join(workDir, `${topic}.log`);
  const consumer = await startConsumer(topic, outFile);
  const publisher = await createPublisher(`${outFile}.publisher.log`);
  let restarted = false;
  try {
    // Publishing pauses while the broker stops, then resumes into the outage: those publishes are
    // refused (500) until the broker is back, and the consumer must reconnect on its own.
    let stopped: Promise<void> | undefined;
    let restart: Promise<void> | undefined;
    const { accepted, refused } = await publishAll(
      publisher,
      topic,
      MESSAGES,
      (count) => {
        if (!stopped && count >= MESSAGES / 3) {
          stopped = run('rabbitmqctl', ['stop_app']).then(() => undefined);
          restart = stopped
            .finally(async () => {
              // Longer than a publish waits for the connection to come back (3 attempts, 1 s
              // apart), so publishes into the outage are refused whatever the machine's speed.
              await new Promise((resolve) => setTimeout(resolve, 3000));
              await run('rabbitmqctl', ['start_app']);
              await run('rabbitmqctl', ['await_startup']);
            })
            .then(() => {
              restarted = true;
            });
        }
      },
      async () => {
        await stopped;
      },
    );
    await restart;
    expect(restarted).toBe(true);
    expect(accepted).toBe(MESSAGES);
    expect(refused).toBeGreaterThan(0);
    await waitForEveryId(outFile, 60_000);
    const seen = delivered(outFile);
    expect(allIds().filter((id) => !seen.has(id))).toEqual([]);
  } finally {
    await publisher.close();
    await kill(consumer);
    await run('rabbitmqctl', ['await_startup']);
  }
});
