/**
 * App health checks (daprd `--enable-app-health-check`): while the app is down, subscriptions
 * pause and messages wait in the broker instead of burning the retry budget and landing on the
 * dead-letter topic; when the app is back every message is delivered (decision 0750).
 *
 * The outage lasts QUIZMESH_APP_DOWN_SECONDS (default 20; the 60 s by hand).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { createTestVhost, uniqueName, type TestVhost } from '@quizmesh/platform/testing';
import type { RunningSidecar } from '../src';
import { eventually, raw, removeDir, resourcesDir, startTestSidecar, tempDir } from './helpers';

const DOWN_SECONDS = Number(process.env.QUIZMESH_APP_DOWN_SECONDS ?? '20');
const run = promisify(execFile);
jest.setTimeout((DOWN_SECONDS + 90) * 1000);

let vhost: TestVhost;
beforeAll(async () => {
  vhost = await createTestVhost('qm_app_health');
});
afterAll(async () => {
  await vhost.drop();
});

/** [messages ready, consumers] of one queue of the test's vhost. */
async function queueState(queue: string): Promise<[number, number]> {
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_queues',
    '-p',
    vhost.name,
    'name',
    'messages_ready',
    'consumers',
    '--no-table-headers',
  ]);
  const line = stdout.split('\n').find((l) => l.trim().split(/\s+/)[0] === queue);
  if (!line) throw new Error(`no queue ${queue}`);
  const [, ready, consumers] = line.trim().split(/\s+/);
  return [Number(ready), Number(consumers)];
}

/** A consumer app that can be taken down and brought back on the same port. */
class ConsumerApp {
  readonly delivered = new Map<string, number>();
  readonly deadLettered: string[] = [];
  private server: http.Server | undefined;
  port = 0;

  constructor(private readonly topic: string) {}

  async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') {
          res
            .writeHead(req.url === '/healthz' ? 204 : 200, { 'content-type': 'application/json' })
            .end(req.url === '/dapr/subscribe' ? '[]' : undefined);
          return;
        }
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { n: string } };
        if (req.url === `/events/${this.topic}`)
          this.delivered.set(event.data.n, (this.delivered.get(event.data.n) ?? 0) + 1);
        else this.deadLettered.push(event.data.n);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"SUCCESS"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** As a SIGKILL looks from the sidecar: open connections reset, then connections refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe.each(['in-memory', 'rabbitmq'] as const)('a consumer down for a while on pubsub.%s', (kind) => {
  const appId = uniqueName('health');
  const topic = uniqueName('quiz.completed');
  const registryDir = tempDir('reg');
  const app = new ConsumerApp(topic);
  let resources: string;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    await app.up();
    const component =
      kind === 'in-memory'
        ? 'spec: {type: pubsub.in-memory, version: v1}'
        : [
            'spec:',
            '  type: pubsub.rabbitmq',
            '  version: v1',
            '  metadata:',
            `  - {name: connectionString, value: "${vhost.url}"}`,
            '  - {name: durable, value: "true"}',
            '  - {name: deletedWhenUnused, value: "false"}',
            '  - {name: deliveryMode, value: "2"}',
            '  - {name: publisherConfirm, value: "true"}',
            '  - {name: requeueInFailure, value: "false"}',
            '  - {name: prefetchCount, value: "8"}',
          ].join('\n');
    resources = resourcesDir({
      'pubsub.yaml': `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub}\n${component}\n`,
      'subscriptions.yaml': [
        'apiVersion: dapr.io/v2alpha1',
        'kind: Subscription',
        'metadata: {name: live}',
        `spec: {pubsubname: pubsub, topic: ${topic}, routes: {default: /events/${topic}}, deadLetterTopic: ${topic}.deadletter}`,
        '---',
        'apiVersion: dapr.io/v2alpha1',
        'kind: Subscription',
        'metadata: {name: dead}',
        `spec: {pubsubname: pubsub, topic: ${topic}.deadletter, routes: {default: /events/${topic}.deadletter}}`,
        '',
      ].join('\n'),
      // A budget of well under a second: without health checks every message sent during the
      // outage would be dead-lettered.
      'resiliency.yaml': [
        'apiVersion: dapr.io/v1alpha1',
        'kind: Resiliency',
        'metadata: {name: resiliency}',
        'spec:',
        '  policies:',
        '    timeouts: {delivery: 2s}',
        '    retries: {delivery: {policy: constant, duration: 100ms, maxRetries: 3}}',
        '  targets:',
        '    components:',
        '      pubsub: {inbound: {timeout: delivery, retry: delivery}}',
        '',
      ].join('\n'),
    });
    sidecar = await startTestSidecar({
      appId,
      registryDir,
      appPort: app.port,
      resourcesPaths: [resources],
      appHealthCheck: { path: '/healthz', intervalMs: 1000, timeoutMs: 500, threshold: 2 },
    });
    await sidecar.ready;
  });

  afterAll(async () => {
    await sidecar?.close();
    await app.down();
    removeDir(resources);
    removeDir(registryDir);
  });

  async function publish(n: number): Promise<void> {
    const res = await raw(sidecar, `/v1.0/publish/pubsub/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: String(n) }),
    });
    expect(res.status).toBe(204);
  }

  it(`delivers every message published during a ${DOWN_SECONDS} s outage once the app is back, none dead-lettered`, async () => {
    let n = 0;
    for (; n < 20; n++) await publish(n);
    await eventually(() => app.delivered.size === 20);

    await app.down();
    const until = Date.now() + DOWN_SECONDS * 1000;
    while (Date.now() < until) {
      await publish(n++);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Nothing could be delivered while the app was down.
    expect(app.delivered.size).toBe(20);
    const queue = `${appId}-${topic}`;
    if (kind === 'rabbitmq') {
      // Paused as daprd does (basic.cancel): no consumer, the messages wait in the broker.
      const [ready, consumers] = await queueState(queue);
      expect(consumers).toBe(0);
      expect(ready).toBeGreaterThan(0);
    }
    await app.up();

    await eventually(() => app.delivered.size === n, 30_000);
    expect([...app.delivered.keys()].sort()).toEqual(Array.from({ length: n }, (_, i) => String(i)).sort());
    // A dead letter would have been delivered to the (healthy) app by now; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(app.deadLettered).toEqual([]);
    if (kind === 'rabbitmq') expect(await queueState(queue)).toEqual([0, 1]);
  });
});
