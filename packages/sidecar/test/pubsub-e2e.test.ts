/**
 * Pub/sub end to end through the real sidecar (startSidecar) with the official SDK over
 * HTTP: YAML components (in-memory and RabbitMQ), a Resiliency inbound policy, a
 * declarative Subscription, and an app declaring subscriptions on GET /dapr/subscribe.
 */
import { createTestVhost, uniqueName, type TestVhost } from '@quizmesh/platform/testing';
import type { RunningSidecar } from '../src';
import {
  eventually,
  raw,
  removeDir,
  resourcesDir,
  sdkClient,
  startTestApp,
  startTestSidecar,
  tempDir,
  type TestApp,
} from './helpers';

let vhost: TestVhost;
beforeAll(async () => {
  vhost = await createTestVhost('qm_pubsub_e2e');
});
afterAll(async () => {
  await vhost.drop();
});

const pubsubYaml = (kind: 'in-memory' | 'rabbitmq'): string =>
  kind === 'in-memory'
    ? 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub}\nspec: {type: pubsub.in-memory, version: v1}\n'
    : [
        'apiVersion: dapr.io/v1alpha1',
        'kind: Component',
        'metadata: {name: pubsub}',
        'spec:',
        '  type: pubsub.rabbitmq',
        '  version: v1',
        '  metadata:',
        `  - {name: connectionString, value: "${vhost.url}"}`,
        '  - {name: durable, value: "true"}',
        '  - {name: deletedWhenUnused, value: "false"}',
        '  - {name: deliveryMode, value: "2"}',
        '  - {name: publisherConfirm, value: "true"}',
        '  - {name: reconnectWaitSeconds, value: "1"}',
        '',
      ].join('\n');

const resiliencyYaml = [
  'apiVersion: dapr.io/v1alpha1',
  'kind: Resiliency',
  'metadata: {name: resiliency}',
  'spec:',
  '  policies:',
  '    retries:',
  '      threeTimes: {policy: constant, duration: 10ms, maxRetries: 2}',
  '  targets:',
  '    components:',
  '      pubsub: {inbound: {retry: threeTimes}}',
  '',
].join('\n');

describe.each(['in-memory', 'rabbitmq'] as const)('pub/sub through the sidecar and the SDK on pubsub.%s', (kind) => {
  const appId = uniqueName('pse2e');
  const topic = uniqueName('quiz.completed');
  const declaredTopic = uniqueName('score.calculated');
  const registryDir = tempDir('reg');
  let resources: string;
  let sidecar: RunningSidecar;
  let app: TestApp;
  let client: ReturnType<typeof sdkClient>;
  const attemptsById = new Map<string, number>();

  beforeAll(async () => {
    app = await startTestApp((req, res) => {
      if (req.method === 'GET' && req.url === '/dapr/subscribe') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify([
            {
              pubsubname: 'pubsub',
              topic,
              routes: { rules: [{ match: 'event.data.verdict == "flaky"', path: '/flaky' }], default: '/completed' },
              deadLetterTopic: `${topic}.dead`,
            },
            { pubsubname: 'pubsub', topic: `${topic}.dead`, route: '/dead' },
          ]),
        );
        return;
      }
      const event = JSON.parse(req.body) as { id: string; data: { verdict: string } };
      const attempts = (attemptsById.get(event.id) ?? 0) + 1;
      attemptsById.set(event.id, attempts);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/flaky') {
        res.end(JSON.stringify({ status: attempts < 3 ? 'RETRY' : 'SUCCESS' }));
      } else if (req.url === '/completed' && event.data.verdict === 'broken') {
        res.statusCode = 500;
        res.end('{"error":"boom"}');
      } else if (req.url === '/completed' && event.data.verdict === 'reject') {
        res.end(JSON.stringify({ status: 'DROP' }));
      } else {
        res.end(JSON.stringify({ status: 'SUCCESS' }));
      }
    });
    resources = resourcesDir({
      'pubsub.yaml': pubsubYaml(kind),
      'resiliency.yaml': resiliencyYaml,
      'subscription.yaml': [
        'apiVersion: dapr.io/v2alpha1',
        'kind: Subscription',
        'metadata: {name: scores}',
        `spec: {pubsubname: pubsub, topic: ${declaredTopic}, routes: {default: /scores}}`,
        '',
      ].join('\n'),
    });
    sidecar = await startTestSidecar({ appId, registryDir, resourcesPaths: [resources], appPort: app.port });
    await sidecar.ready;
    client = sdkClient(sidecar);
  });

  afterAll(async () => {
    await client.stop();
    await sidecar.close();
    await app.close();
    removeDir(registryDir);
    removeDir(resources);
  });

  const deliveries = (path: string) => app.requests.filter((r) => r.method === 'POST' && r.url === path);
  const events = (path: string) => deliveries(path).map((r) => JSON.parse(r.body) as Record<string, unknown>);

  it('delivers an SDK publish as a CloudEvent to the programmatic route with the trace kept', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const result = await client.pubsub.publish(
      'pubsub',
      topic,
      { attemptId: 'a1', verdict: 'ok' },
      { metadata: { traceparent } },
    );
    expect(result).toEqual({});
    // The SDK sends no traceparent header itself; publish through raw HTTP to carry one.
    const rawResult = await raw(sidecar, `/v1.0/publish/pubsub/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ attemptId: 'a2', verdict: 'ok' }),
    });
    expect(rawResult.status).toBe(204);
    await eventually(() => deliveries('/completed').length >= 2);

    const byAttempt = new Map(events('/completed').map((e) => [(e.data as { attemptId: string }).attemptId, e]));
    expect(byAttempt.get('a1')).toMatchObject({
      source: appId,
      type: 'com.dapr.event.sent',
      topic,
      pubsubname: 'pubsub',
      datacontenttype: 'application/json',
    });
    expect(String(byAttempt.get('a2')?.traceparent).split('-')[1]).toBe('0af7651916cd43dd8448eb211c80319c');
    const delivery = deliveries('/completed').find((r) => r.body.includes('"a2"'));
    expect(String(delivery?.headers.traceparent).split('-')[1]).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(delivery?.headers['content-type']).toBe('application/cloudevents+json');
  });

  it('retries RETRY under the Resiliency inbound policy until the app succeeds', async () => {
    await client.pubsub.publish('pubsub', topic, { attemptId: 'f1', verdict: 'flaky' });
    await eventually(() => events('/flaky').some((e) => attemptsById.get(String(e.id)) === 3));
    const id = String(events('/flaky')[0]?.id);
    expect(deliveries('/flaky').filter((r) => r.body.includes(id))).toHaveLength(3);
    expect(events('/dead').some((e) => e.id === id)).toBe(false);
  });

  it('dead-letters an event after the policy gives up on a failing app, and a DROP at once', async () => {
    await client.pubsub.publish('pubsub', topic, { attemptId: 'b1', verdict: 'broken' });
    await client.pubsub.publish('pubsub', topic, { attemptId: 'r1', verdict: 'reject' });
    await eventually(() => events('/dead').length >= 2);

    const dead = new Map(events('/dead').map((e) => [(e.data as { attemptId: string }).attemptId, e]));
    expect(attemptsById.get(String(dead.get('b1')?.id))).toBe(1 + 3); // 3 tries at /completed, then /dead
    expect(attemptsById.get(String(dead.get('r1')?.id))).toBe(1 + 1); // DROP: one try, then /dead
    expect(dead.get('b1')?.topic).toBe(topic);
  });

  it('delivers to a declarative subscription and lists both kinds in the metadata API', async () => {
    await client.pubsub.publish('pubsub', declaredTopic, { playerId: 'p1', score: 42 });
    await eventually(() => deliveries('/scores').length === 1);
    expect(events('/scores')[0]?.data).toEqual({ playerId: 'p1', score: 42 });

    const metadata = JSON.parse((await raw(sidecar, '/v1.0/metadata')).text) as {
      subscriptions: Array<{ topic: string; type: string }>;
    };
    expect(metadata.subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic, type: 'PROGRAMMATIC' }),
        expect.objectContaining({ topic: declaredTopic, type: 'DECLARATIVE' }),
      ]),
    );
  });

  it('answers 404 ERR_PUBSUB_NOT_FOUND for an unknown pubsub (the SDK returns it as {error})', async () => {
    const result = await client.pubsub.publish('no-such-pubsub', topic, { x: 1 });
    expect(result.error).toBeDefined();
    const response = await raw(sidecar, `/v1.0/publish/no-such-pubsub/${topic}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toMatchObject({ errorCode: 'ERR_PUBSUB_NOT_FOUND' });
  });
});
