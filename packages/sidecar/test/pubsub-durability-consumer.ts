/**
 * Child process for pubsub-durability.exclusive.test.ts: a subscriber app plus its pub/sub runtime
 * (one "pod"), killed with SIGKILL by the test. Appends each delivered event id to
 * DURABILITY_OUT before answering SUCCESS, so an id in the file was delivered at least once.
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { withoutHealthChecks } from '../src/app-channel/channel';
import { createPubSubRuntime } from '../src/pubsub';
import { FixedRetryResiliency, silentLogger } from './pubsub-fixtures';

async function main(): Promise<void> {
  const { DURABILITY_URL: url, DURABILITY_OUT: out, DURABILITY_TOPIC: topic, DURABILITY_LOG: log } = process.env;
  if (!url || !out || !topic) throw new Error('DURABILITY_URL, DURABILITY_OUT and DURABILITY_TOPIC are required');
  // The runtime's connection and channel events, for the test to show when deliveries stop.
  const logger = log ? pino({ level: 'info' }, pino.destination({ dest: log, sync: true })) : silentLogger;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/dapr/subscribe') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify([{ pubsubname: 'ps', topic, route: '/events' }]));
        return;
      }
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
      appendFileSync(out, `${event.id}\n`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"SUCCESS"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const runtime = await createPubSubRuntime({
    appId: 'durable-consumer',
    components: [
      {
        name: 'ps',
        type: 'pubsub.rabbitmq',
        version: 'v1',
        ignoreErrors: false,
        scopes: [],
        sourceFile: 'durability',
        metadata: {
          connectionString: url,
          durable: 'true',
          deletedWhenUnused: 'false',
          deliveryMode: '2',
          publisherConfirm: 'true',
          prefetchCount: '200',
          concurrencyMode: 'parallel',
          reconnectWaitSeconds: '1',
        },
      },
    ],
    declarativeSubscriptions: [],
    app: {
      ...withoutHealthChecks,
      appId: 'durable-consumer',
      baseUrl,
      appApiToken: undefined,
      waitUntilReady: async () => undefined,
    },
    resiliency: new FixedRetryResiliency(1),
    logger,
  });
  await runtime.start();
  process.stdout.write('READY\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
