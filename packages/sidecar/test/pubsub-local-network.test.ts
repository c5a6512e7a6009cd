/**
 * pubsub.local-network: the embedded run's broker shared by the sidecars of one machine.
 * Three apps, each with its own sidecar (in one test process, as separate sidecar instances
 * that only meet through the registry directory and loopback HTTP, like separate processes).
 */
import { uniqueName } from '@quizmesh/platform/testing';
import type { RunningSidecar } from '../src';
import {
  eventually,
  removeDir,
  resourcesDir,
  sdkClient,
  startTestApp,
  startTestSidecar,
  tempDir,
  type TestApp,
} from './helpers';

const component =
  'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub}\nspec: {type: pubsub.local-network, version: v1}\n';

describe('pubsub.local-network across sidecars', () => {
  const registryDir = tempDir('lnreg');
  const topic = uniqueName('quiz.completed');
  const apps: TestApp[] = [];
  const sidecars: RunningSidecar[] = [];
  let resources: string;

  const subscriber = (topics: string[]) =>
    startTestApp((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/dapr/subscribe') {
        res.end(JSON.stringify(topics.map((t) => ({ pubsubname: 'pubsub', topic: t, route: '/events' }))));
        return;
      }
      res.end(JSON.stringify({ status: 'SUCCESS' }));
    });

  beforeAll(async () => {
    resources = resourcesDir({ 'pubsub.yaml': component });
    // publisher (no subscriptions), two consumers of the topic, one of another topic
    const topicsPerApp = [[], [topic], [topic], [`${topic}.other`]];
    for (const [index, topics] of topicsPerApp.entries()) {
      const app = await subscriber(topics);
      apps.push(app);
      const sidecar = await startTestSidecar({
        appId: `ln${index}-${uniqueName('a')}`.slice(0, 40),
        registryDir,
        resourcesPaths: [resources],
        appPort: app.port,
      });
      await sidecar.ready;
      sidecars.push(sidecar);
    }
  });

  afterAll(async () => {
    for (const s of sidecars) await s.close();
    for (const a of apps) await a.close();
    removeDir(registryDir);
    removeDir(resources);
  });

  const received = (app: TestApp | undefined) =>
    (app?.requests ?? [])
      .filter((r) => r.method === 'POST' && r.url === '/events')
      .map((r) => JSON.parse(r.body) as { data: unknown; source: string });

  it('delivers one copy to every sidecar consuming the topic, none elsewhere', async () => {
    const publisher = sidecars[0];
    if (!publisher) throw new Error('no publisher');
    const client = sdkClient(publisher);
    try {
      expect(await client.pubsub.publish('pubsub', topic, { attemptId: 'a-1' })).toEqual({});
      await eventually(() => received(apps[1]).length === 1 && received(apps[2]).length === 1);
      for (const app of [apps[1], apps[2]]) {
        const [event] = received(app);
        expect(event?.data).toEqual({ attemptId: 'a-1' });
        expect(event?.source).toBe(publisher.appId);
      }
      expect(received(apps[0])).toEqual([]);
      expect(received(apps[3])).toEqual([]);
    } finally {
      await client.stop();
    }
  });

  it('forgets a sidecar that stopped: publishing still succeeds for the others', async () => {
    const stopped = sidecars.pop();
    await stopped?.close();
    const client = sdkClient(sidecars[1] as RunningSidecar);
    try {
      expect(await client.pubsub.publish('pubsub', topic, { attemptId: 'a-2' })).toEqual({});
      await eventually(() => received(apps[1]).length === 2 && received(apps[2]).length === 2);
    } finally {
      await client.stop();
    }
  });
});

describe('pubsub.local-network with `network`: a second component on the same broker', () => {
  const registryDir = tempDir('lnnet');
  const topic = uniqueName('leaderboard.updated');
  const apps: TestApp[] = [];
  const sidecars: RunningSidecar[] = [];
  let resources: string;

  beforeAll(async () => {
    resources = resourcesDir({
      'pubsub.yaml': component,
      'pubsub-broadcast.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub-broadcast}\nspec: {type: pubsub.local-network, version: v1, metadata: [{name: network, value: pubsub}]}\n',
    });
    // a publisher, and a consumer subscribed through pubsub-broadcast only
    for (const [index, topics] of [[], [topic]].entries()) {
      const app = await startTestApp((req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET' && req.url === '/dapr/subscribe') {
          res.end(JSON.stringify(topics.map((t) => ({ pubsubname: 'pubsub-broadcast', topic: t, route: '/events' }))));
          return;
        }
        res.end(JSON.stringify({ status: 'SUCCESS' }));
      });
      apps.push(app);
      const sidecar = await startTestSidecar({
        appId: `lnn${index}-${uniqueName('a')}`.slice(0, 40),
        registryDir,
        resourcesPaths: [resources],
        appPort: app.port,
      });
      await sidecar.ready;
      sidecars.push(sidecar);
    }
  });

  afterAll(async () => {
    for (const s of sidecars) await s.close();
    for (const a of apps) await a.close();
    removeDir(registryDir);
    removeDir(resources);
  });

  const received = (app: TestApp | undefined) =>
    (app?.requests ?? [])
      .filter((r) => r.method === 'POST' && r.url === '/events')
      .map((r) => JSON.parse(r.body) as { data: unknown });

  it('delivers what another sidecar and its own sidecar publish on `pubsub`, once each', async () => {
    for (const [index, publisher] of sidecars.entries()) {
      const client = sdkClient(publisher);
      try {
        expect(await client.pubsub.publish('pubsub', topic, { n: index })).toEqual({});
      } finally {
        await client.stop();
      }
      await eventually(() => received(apps[1]).length === index + 1);
    }
    expect(received(apps[1]).map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }]);
    expect(received(apps[0])).toEqual([]);
  });
});
