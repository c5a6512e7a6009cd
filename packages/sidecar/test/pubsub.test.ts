/**
 * The pub/sub runtime against both components: pubsub.in-memory and pubsub.rabbitmq on a
 * real RabbitMQ (one vhost for this file). Subscribers are real HTTP apps on port 0.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { createTestVhost, uniqueName, type TestVhost } from '@quizmesh/platform/testing';
import { withoutHealthChecks } from '../src/app-channel/channel';
import type { ComponentSpec, SubscriptionSpec } from '../src/resources/types';
import type { PubSubRuntime } from '../src/pubsub/types';
import { createPubSubRuntime } from '../src/pubsub';
import { RabbitMqPubSub } from '../src/pubsub/components/rabbitmq';
import { abortDependants } from './helpers';
import { FixedRetryResiliency, silentLogger, TestApp, waitUntil } from './pubsub-fixtures';

const run = promisify(execFile);
const APP_ID = 'orders-app';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let vhost: TestVhost;
beforeAll(async () => {
  vhost = await createTestVhost('qm_pubsub');
});
afterAll(async () => {
  await vhost.drop();
});

type Backend = 'in-memory' | 'rabbitmq';

function component(backend: Backend, extra: Record<string, string> = {}): ComponentSpec {
  const base = { name: 'ps', version: 'v1', ignoreErrors: false, scopes: [], sourceFile: 'test' };
  if (backend === 'in-memory') return { ...base, type: 'pubsub.in-memory', metadata: { ...extra } };
  return {
    ...base,
    type: 'pubsub.rabbitmq',
    metadata: {
      connectionString: vhost.url,
      durable: 'true',
      deletedWhenUnused: 'false',
      deliveryMode: '2',
      publisherConfirm: 'true',
      reconnectWaitSeconds: '1',
      ...extra,
    },
  };
}

describe.each<Backend>(['in-memory', 'rabbitmq'])('pub/sub over %s', (backend) => {
  let app: TestApp;
  let runtime: PubSubRuntime | undefined;
  let resiliency: FixedRetryResiliency;

  async function start(
    subscriptions: unknown[],
    options: {
      attempts?: number;
      declarative?: SubscriptionSpec[];
      metadata?: Record<string, string>;
      appApiToken?: string;
    } = {},
  ): Promise<PubSubRuntime> {
    app = await new TestApp(subscriptions).listen();
    resiliency = new FixedRetryResiliency(options.attempts ?? 1);
    runtime = await createPubSubRuntime({
      appId: APP_ID,
      components: [component(backend, options.metadata)],
      declarativeSubscriptions: options.declarative ?? [],
      app: app.channel(APP_ID, options.appApiToken),
      resiliency,
      logger: silentLogger,
    });
    await runtime.start();
    return runtime;
  }

  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
    await app.close();
  });

  function publish(
    topic: string,
    body: unknown,
    contentType = 'application/json',
    metadata: Record<string, string> = {},
  ) {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (!runtime) throw new Error('runtime not started');
    return runtime.publish({
      pubsubName: 'ps',
      topic,
      body: bytes,
      contentType,
      metadata,
      traceparent: TRACEPARENT,
      tracestate: 'congo=t61rcWkgMzE',
    });
  }

  test('publishes a CloudEvent envelope with daprd fields and keeps the trace across pub/sub', async () => {
    const topic = uniqueName('orders');
    await start([{ pubsubname: 'ps', topic, route: '/orders' }], { appApiToken: 'app-secret' });

    expect(await publish(topic, { orderId: 7 })).toEqual({ status: 204 });
    await waitUntil('delivery', () => app.at('/orders').length === 1);

    const [delivery] = app.at('/orders');
    const event = delivery?.event ?? {};
    expect(event).toMatchObject({
      specversion: '1.0',
      datacontenttype: 'application/json',
      source: APP_ID,
      type: 'com.dapr.event.sent',
      topic,
      pubsubname: 'ps',
      data: { orderId: 7 },
      tracestate: 'congo=t61rcWkgMzE',
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // The event carries a child span of the publisher's trace, the delivery a child of the event's.
    const eventTrace = String(event.traceparent).split('-');
    expect(eventTrace[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(eventTrace[2]).not.toBe('00f067aa0ba902b7');
    expect(event.traceid).toBe(event.traceparent);
    const deliveryTrace = String(delivery?.headers.traceparent).split('-');
    expect(deliveryTrace[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(deliveryTrace[2]).not.toBe(eventTrace[2]);
    expect(delivery?.headers['content-type']).toBe('application/cloudevents+json');
    expect(delivery?.headers['dapr-api-token']).toBe('app-secret');
    expect(delivery?.headers.pubsubname).toBe('ps');
    expect(app.subscribeRequests[0]?.['dapr-app-id']).toBe(APP_ID);
  });

  test('encodes text as data, binary as data_base64, and applies cloudevent.* overrides', async () => {
    const topic = uniqueName('mixed');
    await start([{ pubsubname: 'ps', topic, route: '/mixed' }]);

    await publish(topic, 'plain words', 'text/plain', {
      'cloudevent.id': 'fixed-id',
      'cloudevent.type': 'custom.type',
      'cloudevent.subject': 'sub',
    });
    await publish(topic, Buffer.from([0, 1, 2, 255]), 'application/octet-stream');
    await waitUntil('two deliveries', () => app.at('/mixed').length === 2);

    const text = app.received.find((r) => r.event.datacontenttype === 'text/plain')?.event;
    expect(text).toMatchObject({ id: 'fixed-id', type: 'custom.type', subject: 'sub', data: 'plain words' });
    const binary = app.received.find((r) => r.event.datacontenttype === 'application/octet-stream')?.event;
    expect(binary?.data_base64).toBe(Buffer.from([0, 1, 2, 255]).toString('base64'));
    expect(binary).not.toHaveProperty('data');
  });

  test('takes an application/cloudevents+json body as the event, overwriting topic and pubsubname', async () => {
    const topic = uniqueName('ce');
    await start([{ pubsubname: 'ps', topic, route: '/ce' }]);

    const cloudEvent = {
      id: 'evt-1',
      source: 'quiz',
      type: 'quiz.published',
      specversion: '1.0',
      topic: 'wrong',
      data: { quizId: 'q1' },
    };
    expect(await publish(topic, cloudEvent, 'application/cloudevents+json')).toEqual({ status: 204 });
    await waitUntil('delivery', () => app.at('/ce').length === 1);

    const event = app.at('/ce')[0]?.event;
    expect(event).toMatchObject({
      id: 'evt-1',
      source: 'quiz',
      type: 'quiz.published',
      topic,
      pubsubname: 'ps',
      data: { quizId: 'q1' },
    });
    expect(String(event?.traceparent)).toContain('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(await publish(topic, '{not json', 'application/cloudevents+json')).toMatchObject({
      status: 500,
      body: { errorCode: 'ERR_PUBSUB_CLOUD_EVENTS_SER' },
    });
  });

  test('rawPayload: published as-is and wrapped in a synthetic envelope for rawPayload subscribers', async () => {
    const topic = uniqueName('raw');
    await start([{ pubsubname: 'ps', topic, route: '/raw', metadata: { rawPayload: 'true' } }]);

    expect(await publish(topic, 'hello raw', 'text/plain', { rawPayload: 'true' })).toEqual({ status: 204 });
    await waitUntil('delivery', () => app.at('/raw').length === 1);

    expect(app.at('/raw')[0]?.event).toMatchObject({
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic,
      pubsubname: 'ps',
      data_base64: Buffer.from('hello raw').toString('base64'),
    });
    expect(await publish(topic, 'x', 'text/plain', { rawPayload: 'yes please' })).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_PUBSUB_REQUEST_METADATA' },
    });
  });

  test('routes events by CEL rules in order, falling back to the default route', async () => {
    const topic = uniqueName('products');
    await start([
      {
        pubsubname: 'ps',
        topic,
        routes: {
          rules: [
            { match: 'event.type == "widget"', path: '/widgets' },
            { match: 'event.data.price > 100', path: '/expensive' },
          ],
          default: '/products',
        },
      },
    ]);

    await publish(topic, { price: 5 }, 'application/json', { 'cloudevent.type': 'widget' });
    await publish(topic, { price: 500 }, 'application/json', { 'cloudevent.type': 'gadget' });
    await publish(topic, { price: 5 }, 'application/json', { 'cloudevent.type': 'gadget' });
    await waitUntil('three deliveries', () => app.received.length === 3);

    expect(app.at('/widgets').map((r) => r.event.type)).toEqual(['widget']);
    expect(app.at('/expensive').map((r) => (r.event.data as { price: number }).price)).toEqual([500]);
    expect(app.at('/products').map((r) => (r.event.data as { price: number }).price)).toEqual([5]);
  });

  test("deliveries leave no reference behind on the runtime's shutdown signal", async () => {
    // It lives as long as the sidecar: combining it with each attempt's signal through
    // AbortSignal.any would record one composite on it per delivery, never freed on Node 20.
    const topic = uniqueName('orders');
    const started = await start([{ pubsubname: 'ps', topic, route: '/orders' }]);
    const shutdown = (started as unknown as { shutdown: AbortController }).shutdown.signal;
    for (let i = 0; i < 5; i += 1) expect(await publish(topic, { i })).toEqual({ status: 204 });
    await waitUntil('deliveries', () => app.at('/orders').length === 5);
    expect(abortDependants(shutdown)).toBe(0);
  });

  test('close() interrupts a delivery the app never answers, once the grace period is over', async () => {
    const topic = uniqueName('orders');
    let reached = false;
    let aborted = false;
    // Answers the subscription list, never an event.
    const hanging = createServer((req, res) => {
      if (req.url === '/dapr/subscribe') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ pubsubname: 'ps', topic, route: '/orders' }]));
        return;
      }
      reached = true;
      req.resume();
      req.socket.on('close', () => (aborted = true));
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    app = await new TestApp([]).listen();
    try {
      runtime = await createPubSubRuntime({
        appId: APP_ID,
        components: [component(backend)],
        declarativeSubscriptions: [],
        app: {
          ...app.channel(APP_ID),
          baseUrl: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
        },
        resiliency: new FixedRetryResiliency(1),
        logger: silentLogger,
      });
      await runtime.start();
      expect(await publish(topic, { i: 1 })).toEqual({ status: 204 });
      await waitUntil('the delivery to reach the app', () => reached);
      await runtime.close();
      runtime = undefined;
      await waitUntil('the delivery to be aborted', () => aborted);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  test('SUCCESS acks once; RETRY is redelivered under the inbound policy until it succeeds', async () => {
    const topic = uniqueName('retry');
    await start([{ pubsubname: 'ps', topic, route: '/retry' }], { attempts: 5 });
    app.respond('/retry', (_received, count) => ({ status: 200, body: { status: count < 3 ? 'RETRY' : 'SUCCESS' } }));

    await publish(topic, { n: 1 });
    await waitUntil('policy run finished', () => resiliency.inboundRuns.length === 1);

    expect(resiliency.inboundRuns).toEqual([{ attempts: 3, ok: true }]);
    const ids = new Set(app.at('/retry').map((r) => r.event.id));
    expect(app.at('/retry')).toHaveLength(3);
    expect(ids.size).toBe(1);
  });

  test('DROP is not retried and goes to the dead-letter topic', async () => {
    const topic = uniqueName('drop');
    const deadLetter = `${topic}-dead`;
    await start(
      [
        { pubsubname: 'ps', topic, route: '/drop', deadLetterTopic: deadLetter },
        { pubsubname: 'ps', topic: deadLetter, route: '/dead' },
      ],
      { attempts: 5 },
    );
    app.respond('/drop', () => ({ status: 200, body: { status: 'DROP' } }));

    await publish(topic, { n: 2 });
    await waitUntil('dead-lettered', () => app.at('/dead').length === 1);

    expect(app.at('/drop')).toHaveLength(1);
    expect(app.at('/dead')[0]?.event.id).toBe(app.at('/drop')[0]?.event.id);
    expect(app.at('/dead')[0]?.event.topic).toBe(topic);
  });

  test('an app error (500) is retried by the policy, then dead-lettered', async () => {
    const topic = uniqueName('fail');
    const deadLetter = `${topic}-dead`;
    await start(
      [
        { pubsubname: 'ps', topic, route: '/fail', deadLetterTopic: deadLetter },
        { pubsubname: 'ps', topic: deadLetter, route: '/dead' },
      ],
      { attempts: 3 },
    );
    app.respond('/fail', () => ({ status: 500, body: { error: 'boom' } }));

    await publish(topic, { n: 3 });
    await waitUntil('dead-lettered', () => app.at('/dead').length === 1);

    expect(app.at('/fail')).toHaveLength(3);
    expect(resiliency.inboundRuns.find((r) => !r.ok)).toEqual({ attempts: 3, ok: false });
    expect(app.at('/dead')[0]?.event.id).toBe(app.at('/fail')[0]?.event.id);
  });

  test('a 404 from the app drops the event without retrying', async () => {
    const topic = uniqueName('gone');
    await start([{ pubsubname: 'ps', topic, route: '/gone' }], { attempts: 5 });
    app.respond('/gone', () => ({ status: 404 }));

    await publish(topic, { n: 4 });
    await waitUntil('policy run finished', () => resiliency.inboundRuns.length === 1);

    expect(resiliency.inboundRuns).toEqual([{ attempts: 1, ok: true }]);
    expect(app.at('/gone')).toHaveLength(1);
  });

  test('answers Dapr errors for unknown pubsub, empty topic and topic scopes', async () => {
    await start([], { metadata: { publishingScopes: `${APP_ID}=allowed-topic;other-app=` } });
    if (!runtime) throw new Error('runtime not started');
    const body = Buffer.from('{}');
    const request = {
      body,
      contentType: 'application/json',
      metadata: {},
      traceparent: undefined,
      tracestate: undefined,
    };

    expect(await runtime.publish({ ...request, pubsubName: 'nope', topic: 't' })).toEqual({
      status: 404,
      body: { errorCode: 'ERR_PUBSUB_NOT_FOUND', message: 'pubsub nope not found' },
    });
    expect(await runtime.publish({ ...request, pubsubName: 'ps', topic: '' })).toMatchObject({
      status: 404,
      body: { errorCode: 'ERR_TOPIC_NAME_EMPTY' },
    });
    expect(await runtime.publish({ ...request, pubsubName: 'ps', topic: 'other-topic' })).toMatchObject({
      status: 403,
      body: { errorCode: 'ERR_PUBSUB_FORBIDDEN' },
    });
    expect(await runtime.publish({ ...request, pubsubName: 'ps', topic: 'allowed-topic' })).toEqual({ status: 204 });
  });

  test('bulk publish delivers every entry; a duplicate entryId is refused', async () => {
    const topic = uniqueName('bulk');
    await start([{ pubsubname: 'ps', topic, route: '/bulk' }]);
    if (!runtime) throw new Error('runtime not started');

    const entries = [
      { entryId: '1', event: { n: 1 }, contentType: 'application/json' },
      { entryId: '2', event: 'two', contentType: 'text/plain' },
      { entryId: '3', event: { n: 3 }, contentType: 'application/json', metadata: { 'cloudevent.type': 'third' } },
    ];
    expect(
      await runtime.publishBulk({ pubsubName: 'ps', topic, body: Buffer.from(JSON.stringify(entries)), metadata: {} }),
    ).toEqual({ status: 204 });
    await waitUntil('three deliveries', () => app.at('/bulk').length === 3);
    expect(
      app
        .at('/bulk')
        .map((r) => r.event.data)
        .sort(),
    ).toEqual([{ n: 1 }, { n: 3 }, 'two'].sort());
    expect(app.received.find((r) => r.event.type === 'third')?.event.data).toEqual({ n: 3 });

    const duplicate = Buffer.from(JSON.stringify([entries[0], entries[0]]));
    expect(await runtime.publishBulk({ pubsubName: 'ps', topic, body: duplicate, metadata: {} })).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_PUBSUB_EVENTS_SER' },
    });
  });

  test('merges declarative subscriptions with programmatic ones and describes them', async () => {
    const topic = uniqueName('decl');
    const declarative: SubscriptionSpec = {
      pubsubname: 'ps',
      topic,
      rules: [{ match: '', path: 'declared' }],
      metadata: {},
      origin: 'declarative',
    };
    const programmaticTopic = uniqueName('prog');
    await start([{ pubsubname: 'ps', topic: programmaticTopic, route: '/prog' }], { declarative: [declarative] });
    if (!runtime) throw new Error('runtime not started');

    await publish(topic, { d: 1 });
    await waitUntil('declarative delivery', () => app.at('/declared').length === 1);
    const described = runtime.describe();
    expect(described.components).toEqual([{ name: 'ps', type: `pubsub.${backend}`, version: 'v1' }]);
    expect(described.subscriptions.map((s) => [s.topic, s.origin, s.rules[0]?.path])).toEqual([
      [programmaticTopic, 'programmatic', '/prog'],
      [topic, 'declarative', '/declared'],
    ]);
  });

  if (backend === 'in-memory') {
    test('ttlInSeconds adds an expiration to the envelope (in-memory has no native TTL)', async () => {
      const topic = uniqueName('ttl');
      await start([{ pubsubname: 'ps', topic, route: '/ttl' }]);
      await publish(topic, { t: 1 }, 'application/json', { ttlInSeconds: '60' });
      await waitUntil('delivery', () => app.at('/ttl').length === 1);
      const expiration = Date.parse(String(app.at('/ttl')[0]?.event.expiration));
      expect(expiration - Date.now()).toBeGreaterThan(30_000);
    });
  }

  if (backend === 'rabbitmq') {
    /** Publishes `body` once as another app (`publisher-app`, durable component, no app of its own). */
    async function publishAsAnotherApp(topic: string, body: unknown) {
      const publisher = await createPubSubRuntime({
        appId: 'publisher-app',
        components: [component('rabbitmq')],
        declarativeSubscriptions: [],
        app: {
          ...withoutHealthChecks,
          appId: 'publisher-app',
          baseUrl: undefined,
          appApiToken: undefined,
          waitUntilReady: async () => undefined,
        },
        resiliency: new FixedRetryResiliency(1),
        logger: silentLogger,
      });
      try {
        return await publisher.publish({
          pubsubName: 'ps',
          topic,
          body: Buffer.from(JSON.stringify(body)),
          contentType: 'application/json',
          metadata: {},
          traceparent: undefined,
          tracestate: undefined,
        });
      } finally {
        await publisher.close();
      }
    }

    test('declares Dapr topology: a fanout exchange per topic, durable {consumerID}-{topic} queues, dlx-/dlq- names', async () => {
      const topic = uniqueName('topo');
      const named = uniqueName('named');
      await start(
        [
          { pubsubname: 'ps', topic, route: '/topo' },
          { pubsubname: 'ps', topic: named, route: '/named', metadata: { queueName: 'custom-queue' } },
        ],
        { metadata: { enableDeadLetter: 'true', maxLen: '1000' } },
      );

      const connection = await amqplib.connect(vhost.url);
      try {
        const channel = await connection.createChannel();
        await channel.checkExchange(topic);
        await channel.checkQueue(`${APP_ID}-${topic}`);
        await channel.checkQueue('custom-queue');
        await channel.checkExchange(`dlx-${APP_ID}-${topic}`);
        await channel.checkQueue(`dlq-${APP_ID}-${topic}`);
        await channel.close();
      } finally {
        await connection.close();
      }

      const { stdout: exchanges } = await run('rabbitmqctl', [
        '-q',
        '--no-table-headers',
        'list_exchanges',
        '-p',
        vhost.name,
        'name',
        'type',
        'durable',
        'auto_delete',
      ]);
      expect(exchanges.split('\n').map((line) => line.trim().split(/\s+/))).toContainEqual([
        topic,
        'fanout',
        'true',
        'false',
      ]);
      const { stdout: queues } = await run('rabbitmqctl', [
        '-q',
        '--no-table-headers',
        'list_queues',
        '-p',
        vhost.name,
        'name',
        'durable',
        'auto_delete',
        'arguments',
      ]);
      const queueLine = queues.split('\n').find((line) => line.startsWith(`${APP_ID}-${topic}\t`)) ?? '';
      expect(queueLine.split('\t').slice(0, 3)).toEqual([`${APP_ID}-${topic}`, 'true', 'false']);
      expect(queueLine).toContain(`x-dead-letter-exchange`);
      expect(queueLine).toContain(`x-max-length`);
    });

    test('a message published while the subscriber is down is kept in its durable queue', async () => {
      const topic = uniqueName('kept');
      await start([{ pubsubname: 'ps', topic, route: '/kept' }]);
      await runtime?.close();
      runtime = undefined;

      // The subscriber is gone; publish through a second runtime with no app.
      expect(await publishAsAnotherApp(topic, { k: 1 })).toEqual({ status: 204 });

      runtime = await createPubSubRuntime({
        appId: APP_ID,
        components: [component('rabbitmq')],
        declarativeSubscriptions: [],
        app: app.channel(APP_ID),
        resiliency: new FixedRetryResiliency(1),
        logger: silentLogger,
      });
      await runtime.start();
      await waitUntil('kept message delivered', () => app.at('/kept').length === 1);
      expect(app.at('/kept')[0]?.event.data).toEqual({ k: 1 });
      expect(app.at('/kept')[0]?.event.source).toBe('publisher-app');
    });

    test('components that declare one exchange with other durable/deletedWhenUnused get 406 PRECONDITION_FAILED, as from daprd', async () => {
      // The chart's pubsub-broadcast as it was (per-pod queues: durable false, deletedWhenUnused
      // true) subscribed first; publishing through its pubsub (durable true, deletedWhenUnused
      // false) then declares the same exchange differently. contrib's ensureExchangeDeclared passes
      // both flags to ExchangeDeclare, so RabbitMQ refuses it.
      const topic = uniqueName('clash');
      await start([{ pubsubname: 'ps', topic, route: '/clash' }], {
        metadata: { consumerID: 'pod-a', durable: 'false', deletedWhenUnused: 'true' },
      });
      const list = async (what: string, columns: string[]) =>
        (await run('rabbitmqctl', ['-q', '--no-table-headers', what, '-p', vhost.name, ...columns])).stdout
          .split('\n')
          .map((line) => line.trim().split(/\s+/));
      expect(await list('list_exchanges', ['name', 'durable', 'auto_delete'])).toContainEqual([topic, 'false', 'true']);

      const result = await publishAsAnotherApp(topic, { k: 2 });
      expect(result.status).toBe(500);
      const message = String((result as { body: { message?: string } }).body.message);
      expect(message).toContain('PRECONDITION_FAILED');
      expect(message).toContain(`inequivalent arg 'durable' for exchange '${topic}'`);
      expect(app.at('/clash')).toHaveLength(0);
    });

    test('components with the same durable/deletedWhenUnused share a topic exchange', async () => {
      const topic = uniqueName('shared');
      await start([{ pubsubname: 'ps', topic, route: '/shared' }], { metadata: { consumerID: 'pod-b' } });
      expect(await publishAsAnotherApp(topic, { k: 3 })).toEqual({ status: 204 });
      await waitUntil('delivery through the shared exchange', () => app.at('/shared').length === 1);
    });

    test('refuses invalid component metadata with a clear error', async () => {
      await expect(
        createPubSubRuntime({
          appId: APP_ID,
          components: [component('rabbitmq', { exchangeKind: 'fan-out' })],
          declarativeSubscriptions: [],
          app: {
            ...withoutHealthChecks,
            appId: APP_ID,
            baseUrl: undefined,
            appApiToken: undefined,
            waitUntilReady: async () => undefined,
          },
          resiliency: new FixedRetryResiliency(1),
          logger: silentLogger,
        }),
      ).rejects.toThrow(
        'pubsub component ps (pubsub.rabbitmq, test): exchangeKind must be one of fanout, direct, topic, headers, got "fan-out"',
      );
      app = await new TestApp().listen();
    });
  }
});

test('a RabbitMQ connection attempt a broker accepts but never answers fails after the handshake timeout', async () => {
  // A listener that accepts TCP and never speaks AMQP, like a broker stuck while booting.
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  const started = Date.now();
  try {
    await expect(
      RabbitMqPubSub.create(
        'ps',
        { connectionString: `amqp://guest:guest@127.0.0.1:${port}/` },
        APP_ID,
        silentLogger,
        300,
      ),
    ).rejects.toThrow(/cannot connect to RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+\/: connect ETIMEDOUT/);
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    silent.close();
  }
});
