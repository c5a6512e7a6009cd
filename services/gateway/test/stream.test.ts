/**
 * GET /api/v1/stream: the real gateway with real local sidecars on RabbitMQ (a test vhost);
 * events are published through other apps' sidecars with the SDK, as evaluation and
 * notification do. The test plays identity (JWKS and tokens).
 */
import { randomUUID } from 'node:crypto';
import { createTestVhost, type TestVhost } from '@quizmesh/platform/testing';
import {
  leaderboardUpdated,
  leaderboardUpdatedV1,
  notificationCreated,
  type LeaderboardUpdated,
  type LeaderboardUpdatedV1,
  type NotificationCreated,
  tokensRevoked,
} from '@quizmesh/contracts/events';
import { echo, json, startHarness, type Handler, type Harness } from './support/harness';
import { ecKey, jwks, signToken } from './support/keys';
import { cloudEvent, startPublisher, type Publisher } from './support/publisher';
import { rawRequest } from './support/raw';
import {
  gatewaySubscriptionsYaml,
  jsonData,
  openStream,
  rabbitPubsubComponents,
  startBroadcastReplicas,
  type SseStream,
} from './support/sse';
import { isLoopbackAddress } from '../src/stream/consumers';

const key = ecKey();
const identityApp: Handler = (req, res) =>
  req.url === '/.well-known/jwks.json' ? json(res, 200, jwks(key)) : echo(req, res);
const tokenFor = (sub: string, expiresInS?: number) =>
  signToken(key, { sub, ...(expiresInS !== undefined ? { expiresInS } : {}) });
const bearer = (sub: string) => ({ authorization: `Bearer ${tokenFor(sub)}` });

/** what an evaluation of the release before decision 1070 publishes: one board */
function leaderboardV1(topUser: string): LeaderboardUpdatedV1 {
  return {
    schemaVersion: 1,
    board: 'global',
    top: [{ rank: 1, userId: topUser, displayName: 'Ada', score: 42 }],
    updatedAt: new Date().toISOString(),
  };
}

/** one scoring's change: the three boards it raised */
function leaderboards(topUser: string): LeaderboardUpdated {
  const top = [{ rank: 1, userId: topUser, displayName: 'Ada', score: 42 }];
  return {
    schemaVersion: 2,
    boards: [
      { board: 'global', top },
      { board: 'quiz', quizId: randomUUID(), top },
      { board: 'weekly', period: '2026-W47', top },
    ],
    updatedAt: new Date().toISOString(),
  };
}

/** the stream's payloads for `event`: version 1, one per board */
const perBoard = (event: LeaderboardUpdated) =>
  event.boards.map((b) => ({ schemaVersion: 1, ...b, updatedAt: event.updatedAt }));

function notification(userId: string, title = 'Your result'): NotificationCreated {
  return {
    schemaVersion: 1,
    notificationId: randomUUID(),
    userId,
    kind: 'result',
    title,
    body: 'You scored 42 of 50.',
    createdAt: new Date().toISOString(),
  };
}

/** Resolves once `condition` holds, re-checking as the event loop turns (the suite's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const logged = (h: Harness, message: string) => h.logs.filter((line) => line.includes(message));

describe('live stream on one gateway (production Subscriptions, RabbitMQ)', () => {
  const APP_API_TOKEN = `app-token-${randomUUID()}`;
  let vhost: TestVhost;
  let h: Harness;
  let evaluation: Publisher;
  let notifications: Publisher;
  let identity: Publisher;
  const open: SseStream[] = [];
  const stream = async (...args: Parameters<typeof openStream>) => {
    const s = await openStream(...args);
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    vhost = await createTestVhost('qm_gateway_stream');
    h = await startHarness({
      apps: { identity: identityApp },
      env: {
        APP_API_TOKEN,
        STREAM_HEARTBEAT_MS: '200',
        STREAM_RETRY_MS: '3000',
        STREAM_MAX_CONNECTIONS: '4',
        STREAM_MAX_CONNECTIONS_PER_USER: '2',
        STREAM_MAX_CONNECTIONS_PER_ADDRESS: '3',
        STREAM_MAX_BUFFERED_BYTES: '65536',
        // Tests act from several client addresses through X-Forwarded-For from loopback.
        TRUST_PROXY: 'loopback',
      },
      gatewaySidecarEnv: { APP_API_TOKEN, POD_NAME: 'gateway-pod-0' },
      resources: {
        ...rabbitPubsubComponents(vhost.url),
        'subscriptions-gateway.yaml': gatewaySubscriptionsYaml(),
        // where the gateway keeps each user's token "not before" (tokens.revoked)
        'statestore.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: statestore }
spec: { type: state.in-memory, version: v1, metadata: [] }
`,
      },
    });
    evaluation = await startPublisher('evaluation', h.resourcesDir);
    notifications = await startPublisher('notification', h.resourcesDir);
    identity = await startPublisher('identity', h.resourcesDir);
  });

  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    await until(() => h.gateway.streams.size === 0);
  });

  afterAll(async () => {
    await identity?.close();
    await notifications?.close();
    await evaluation?.close();
    await h?.close();
    await vhost?.drop();
  });

  it('serves exactly the routes its Subscription resources name', () => {
    const declared = gatewaySubscriptionsYaml()
      .split('\n---\n')
      .map((doc) => ({
        pubsubname: /pubsubname: (\S+)/.exec(doc)?.[1],
        topic: /topic: (\S+)/.exec(doc)?.[1],
        route: /default: (\S+)/.exec(doc)?.[1],
      }));
    const served = h.runtime.subscriptions.list().map(({ pubsubname, topic, route }) => ({ pubsubname, topic, route }));
    const byTopic = (a: { topic?: string }, b: { topic?: string }) => String(a.topic).localeCompare(String(b.topic));
    expect(served.sort(byTopic)).toEqual(declared.sort(byTopic));
  });

  it('opens with SSE headers, a retry hint and a ready event saying there is no replay', async () => {
    const s = await stream(h.port, { headers: { ...bearer(randomUUID()), 'last-event-id': 'evt-41' } });
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    expect(s.headers['x-accel-buffering']).toBe('no');
    expect(s.headers['content-encoding']).toBeUndefined();
    const ready = await s.next((e) => e.event === 'ready');
    expect(jsonData(ready)).toEqual({ replay: false, resumedAfter: 'evt-41' });
    expect(s.retry).toBe(3000);
  });

  it('writes heartbeat comments while nothing happens', async () => {
    const s = await stream(h.port, { headers: bearer(randomUUID()) });
    await s.commentsSeen(2);
    expect(s.comments.slice(0, 2)).toEqual(['heartbeat', 'heartbeat']);
  });

  it('ends a stream when its access token expires, saying so first', async () => {
    const s = await stream(h.port, { path: `/api/v1/stream?access_token=${tokenFor(randomUUID(), 1)}` });
    expect(s.status).toBe(200);
    await s.ended;
    expect(s.events.map((e) => e.event)).toEqual(['ready', 'token-expired']);
  });

  it('pushes leaderboard.updated published through evaluation’s sidecar to every stream: one version-1 event per board, with the event id', async () => {
    const [a, b] = [
      await stream(h.port, { headers: bearer(randomUUID()) }),
      await stream(h.port, { headers: bearer(randomUUID()) }),
    ];
    await Promise.all([a, b].map((s) => s.next((e) => e.event === 'ready')));
    const eventId = randomUUID();
    const change = leaderboards(randomUUID());
    await evaluation.publish(leaderboardUpdated, eventId, change);
    for (const s of [a, b]) {
      await until(() => s.events.filter((e) => e.event === 'leaderboard').length >= 3);
      const pushed = s.events.filter((e) => e.event === 'leaderboard');
      // One id per board, so a client that drops repeated ids keeps every board.
      expect(pushed.map((e) => e.id)).toEqual(
        perBoard(change).map((b) =>
          b.board === 'quiz'
            ? `${eventId}/quiz:${b.quizId}`
            : b.board === 'weekly'
              ? `${eventId}/weekly:${b.period}`
              : `${eventId}/global`,
        ),
      );
      expect(new Set(pushed.map((e) => e.id)).size).toBe(3);
      expect(pushed.map((e) => jsonData(e))).toEqual(perBoard(change));
    }
  });

  it('still pushes a version-1 leaderboard.updated (an evaluation of the previous release) as it is', async () => {
    const s = await stream(h.port, { headers: bearer(randomUUID()) });
    await s.next((e) => e.event === 'ready');
    const eventId = randomUUID();
    const board = leaderboardV1(randomUUID());
    await evaluation.publish(leaderboardUpdatedV1, eventId, board);
    const pushed = await s.next((e) => e.event === 'leaderboard');
    expect(pushed.id).toBe(
      `${eventId}/${board.board}${board.quizId ? `:${board.quizId}` : ''}${board.period ? `:${board.period}` : ''}`,
    );
    expect(jsonData(pushed)).toEqual(board);
  });

  it('pushes a notification to its recipient’s streams only', async () => {
    const [userA, userB] = [randomUUID(), randomUUID()];
    const a1 = await stream(h.port, { headers: bearer(userA) });
    const a2 = await stream(h.port, { headers: bearer(userA) });
    const b = await stream(h.port, { headers: bearer(userB) });
    await Promise.all([a1, a2, b].map((s) => s.next((e) => e.event === 'ready')));

    const forA = notification(userA, 'For A');
    const forAId = randomUUID();
    await notifications.publish(notificationCreated, forAId, forA);
    for (const s of [a1, a2]) {
      const pushed = await s.next((e) => e.event === 'notification');
      expect(pushed.id).toBe(forAId);
      expect(jsonData(pushed)).toEqual(forA);
    }
    // A's was written (to A) before B's is even published: had B's stream got A's, it would come first.
    const forB = notification(userB, 'For B');
    await notifications.publish(notificationCreated, randomUUID(), forB);
    await b.next((e) => e.event === 'notification');
    expect(b.events.filter((e) => e.event === 'notification').map((e) => jsonData(e))).toEqual([forB]);
  });

  it('drops an event of unknown shape by the contract, pushes nothing, and keeps the stream', async () => {
    const s = await stream(h.port, { headers: bearer(randomUUID()) });
    await s.next((e) => e.event === 'ready');
    const badId = randomUUID();
    await evaluation.publish(leaderboardUpdatedV1, badId, { schemaVersion: 1, board: 'galactic', top: 'everyone' });
    // Version 2 names each board once, and at least one.
    const twice = leaderboards(randomUUID());
    const duplicateId = randomUUID();
    await evaluation.publish(leaderboardUpdated, duplicateId, { ...twice, boards: [...twice.boards, twice.boards[0]] });
    const emptyId = randomUUID();
    await evaluation.publish(leaderboardUpdated, emptyId, { ...twice, boards: [] });
    const goodId = randomUUID();
    await evaluation.publish(leaderboardUpdatedV1, goodId, leaderboardV1(randomUUID()));
    const next = await s.next((e) => e.event === 'leaderboard');
    expect(next.id?.startsWith(`${goodId}/`)).toBe(true);
    for (const dropped of [badId, duplicateId, emptyId]) {
      expect(s.events.some((e) => e.id?.startsWith(dropped))).toBe(false);
      await until(() => logged(h, 'live-stream event dead-lettered').some((line) => line.includes(dropped)));
      expect(logged(h, 'dropping event whose data does not match the contract').some((l) => l.includes(dropped))).toBe(
        true,
      );
    }
  });

  it('acknowledges deliveries when no stream is open', async () => {
    expect(h.gateway.streams.size).toBe(0);
    const answer = await rawRequest(h.port, {
      method: 'POST',
      path: '/events/leaderboard.updated',
      headers: { 'content-type': 'application/cloudevents+json', 'dapr-api-token': APP_API_TOKEN },
      body: JSON.stringify(cloudEvent(leaderboardUpdated, randomUUID(), leaderboards(randomUUID()), 'evaluation')),
    });
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { status: 'SUCCESS' }]);
  });

  it('answers a delivery that does not come from its sidecar (no app token) as an unknown path', async () => {
    const s = await stream(h.port, { headers: bearer(randomUUID()) });
    await s.next((e) => e.event === 'ready');
    const forged = await rawRequest(h.port, {
      method: 'POST',
      path: '/events/notification.created',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(cloudEvent(notificationCreated, randomUUID(), notification(randomUUID()), 'attacker')),
    });
    expect(forged.status).toBe(404);
    expect(forged.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(s.events.filter((e) => e.event === 'notification')).toEqual([]);
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('10.1.2.3')).toBe(false);
    expect(isLoopbackAddress('::ffff:10.1.2.3')).toBe(false);
  });

  it('gives a visitor (no token) leaderboard updates and never a notification, with no expiry', async () => {
    const userId = randomUUID();
    const visitor = await stream(h.port);
    const signedIn = await stream(h.port, { headers: bearer(userId) });
    expect(visitor.status).toBe(200);
    await Promise.all([visitor, signedIn].map((s) => s.next((e) => e.event === 'ready')));
    // The signed-in user's notification is written to its stream before the board is published:
    // had the visitor's stream got the notification, it would come before the board.
    await notifications.publish(notificationCreated, randomUUID(), notification(userId, 'Private'));
    await signedIn.next((e) => e.event === 'notification');
    const eventId = randomUUID();
    await evaluation.publish(leaderboardUpdatedV1, eventId, leaderboardV1(randomUUID()));
    const board = await visitor.next((e) => e.event === 'leaderboard');
    expect(board.id).toBe(`${eventId}/global`);
    expect(visitor.events.map((e) => e.event)).toEqual(['ready', 'leaderboard']);
    // Heartbeats go on past the signed-in stream's check for expiry: a visitor's stream has none.
    await visitor.commentsSeen(2);
    expect(visitor.events.some((e) => e.event === 'token-expired')).toBe(false);
  });

  it("counts a visitor's streams against the per-address cap", async () => {
    const address = { 'x-forwarded-for': '203.0.113.20' };
    for (let i = 0; i < 3; i += 1) expect((await stream(h.port, { headers: address })).status).toBe(200);
    const fourth = await stream(h.port, { headers: address });
    expect(fourth.status).toBe(429);
    expect(JSON.parse(fourth.body)).toMatchObject({ status: 429, detail: expect.stringMatching(/client address/) });
  });

  it('refuses a token that was sent but is empty, bad or sent twice, rather than falling back to a visitor stream', async () => {
    const none = await stream(h.port, { path: '/api/v1/stream?access_token=' });
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="quizmesh"');
    expect(JSON.parse(none.body)).toMatchObject({
      status: 401,
      type: 'https://quizmesh.dev/problems/authentication-required',
    });
    const basic = await stream(h.port, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(basic.headers['www-authenticate']).toMatch(/^Bearer realm="quizmesh", error="invalid_token"/);

    const expired = await stream(h.port, { path: `/api/v1/stream?access_token=${tokenFor(randomUUID(), -60)}` });
    expect(expired.status).toBe(401);
    expect(JSON.parse(expired.body)).toMatchObject({ type: 'https://quizmesh.dev/problems/invalid-token' });

    const both = await stream(h.port, {
      path: `/api/v1/stream?access_token=${tokenFor(randomUUID())}`,
      headers: bearer(randomUUID()),
    });
    expect(both.status).toBe(400);
  });

  it('accepts the token as ?access_token= and never logs it', async () => {
    const token = tokenFor(randomUUID());
    const s = await stream(h.port, { path: `/api/v1/stream?since=now&access_token=${token}` });
    expect(s.status).toBe(200);
    await s.next((e) => e.event === 'ready');
    s.close();
    const refused = await stream(h.port, { path: `/api/v1/stream?access_token=${tokenFor(randomUUID(), -60)}` });
    expect(refused.status).toBe(401);
    await until(() => h.gateway.streams.size === 0 && logged(h, '"route":"/api/v1/stream"').length > 0);
    const streamLines = h.logs.filter((line) => line.includes('/api/v1/stream'));
    expect(streamLines.length).toBeGreaterThan(0);
    expect(h.logs.some((line) => line.includes('access_token') || line.includes(token))).toBe(false);
  });

  it('caps streams per user (429) and per replica (503)', async () => {
    const [userX, userY, userZ] = [randomUUID(), randomUUID(), randomUUID()];
    // Each user from its own address, so only the per-user and per-replica caps are in play.
    const from = (n: number) => ({ 'x-forwarded-for': `198.51.100.${n}` });
    for (const user of [userX, userX])
      expect((await stream(h.port, { headers: { ...bearer(user), ...from(1) } })).status).toBe(200);
    const third = await stream(h.port, { headers: { ...bearer(userX), ...from(1) } });
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('3');
    expect(JSON.parse(third.body)).toMatchObject({
      status: 429,
      type: 'https://quizmesh.dev/problems/too-many-streams',
    });

    for (const [user, n] of [
      [userY, 2],
      [userZ, 3],
    ] as const)
      expect((await stream(h.port, { headers: { ...bearer(user), ...from(n) } })).status).toBe(200);
    const full = await stream(h.port, { headers: { ...bearer(randomUUID()), ...from(4) } });
    expect(full.status).toBe(503);
    expect(JSON.parse(full.body)).toMatchObject({ status: 503, type: 'https://quizmesh.dev/problems/stream-capacity' });
  });

  it('caps streams per client address, however many accounts it signs in with (429)', async () => {
    const address = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 3; i += 1)
      expect((await stream(h.port, { headers: { ...bearer(randomUUID()), ...address } })).status).toBe(200);
    const fourth = await stream(h.port, { headers: { ...bearer(randomUUID()), ...address } });
    expect(fourth.status).toBe(429);
    expect(fourth.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(fourth.body)).toMatchObject({ status: 429, detail: expect.stringMatching(/client address/) });
    // Another address still gets a stream (the replica has room for one more).
    const other = await stream(h.port, { headers: { ...bearer(randomUUID()), 'x-forwarded-for': '203.0.113.8' } });
    expect(other.status).toBe(200);
  });

  it('answers HEAD with the stream headers and ends, instead of holding the request open', async () => {
    for (const headers of [bearer(randomUUID()), {}]) {
      const res = await rawRequest(h.port, { method: 'HEAD', path: '/api/v1/stream', headers });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    }
    expect(h.gateway.streams.size).toBe(0);
  });

  it('refuses a user’s older access tokens within seconds of tokens.revoked (logout, family revocation, password change)', async () => {
    const userId = randomUUID();
    const oldToken = tokenFor(userId);
    const me = (token: string) => fetch(`${h.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me(oldToken)).status).toBe(200);
    const live = await stream(h.port, { headers: { authorization: `Bearer ${oldToken}` } });
    expect(live.status).toBe(200);

    // The revocation is a second after the token's iat, as after a logout.
    const notBeforeS = Math.floor(Date.now() / 1000) + 1;
    const published = Date.now();
    await identity.publish(tokensRevoked, randomUUID(), {
      schemaVersion: 1,
      userId,
      notBefore: new Date(notBeforeS * 1000).toISOString(),
      reason: 'logout',
    });
    // Retried until refused; the deadline bounds the wait (no timed assertion: speed is not asserted in tests).
    let answer = await me(oldToken);
    while (answer.status === 200 && Date.now() - published < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await me(oldToken);
    }
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ detail: expect.stringMatching(/token revoked/) });
    expect((await stream(h.port, { headers: { authorization: `Bearer ${oldToken}` } })).status).toBe(401);

    // A token issued at or after the revocation (the next login) is accepted.
    const fresh = signToken(key, { sub: userId, extraClaims: { iat: notBeforeS } });
    expect((await me(fresh)).status).toBe(200);
    live.close();
  });

  it('drops a client that stops reading instead of buffering for it, and keeps serving the others', async () => {
    const slow = await stream(h.port, { headers: bearer(randomUUID()), paused: true });
    const fast = await stream(h.port, { headers: bearer(randomUUID()) });
    await fast.next((e) => e.event === 'ready');
    const big = { ...leaderboardV1(randomUUID()), padding: 'x'.repeat(32 * 1024) };
    let sent = 0;
    // Until the kernel's socket buffers are full, the slow client's queue stays empty; then it grows past 64 KiB.
    while (h.gateway.streams.size === 2) {
      h.gateway.streams.broadcast({ event: 'leaderboard', id: `bulk-${sent}`, data: big });
      sent += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(h.gateway.streams.size).toBe(1);
    expect(logged(h, 'dropping a live-stream client that does not keep up')).toHaveLength(1);
    await fast.next((e) => e.id === `bulk-${sent - 1}`);
    slow.close();
  });
});

describe('live stream on two gateway replicas (the chart’s pubsub-broadcast)', () => {
  let vhost: TestVhost;
  const replicas: Harness[] = [];
  let evaluation: Publisher;
  let notifications: Publisher;

  beforeAll(async () => {
    vhost = await createTestVhost('qm_gateway_broadcast');
    const first = await startBroadcastReplicas(
      vhost.url,
      ['gateway-7d9f-a', 'gateway-7d9f-b'],
      { apps: { identity: identityApp } },
      replicas,
    );
    evaluation = await startPublisher('evaluation', first.resourcesDir);
    notifications = await startPublisher('notification', first.resourcesDir);
  });

  afterAll(async () => {
    await notifications?.close();
    await evaluation?.close();
    for (const h of replicas) await h.close();
    await vhost?.drop();
  });

  it('delivers each event to every replica: leaderboards to all streams, a notification wherever its user is', async () => {
    const [replicaA, replicaB] = replicas;
    if (!replicaA || !replicaB) throw new Error('two replicas expected');
    const user = randomUUID();
    const onA = await openStream(replicaA.port, { headers: bearer(randomUUID()) });
    const onB = await openStream(replicaB.port, { headers: bearer(user) });
    try {
      await Promise.all([onA, onB].map((s) => s.next((e) => e.event === 'ready')));
      const boardId = randomUUID();
      await evaluation.publish(leaderboardUpdated, boardId, leaderboards(user));
      for (const s of [onA, onB]) {
        await until(
          () => s.events.filter((e) => e.event === 'leaderboard' && e.id?.startsWith(`${boardId}/`)).length === 3,
        );
      }

      const forUser = notification(user);
      await notifications.publish(notificationCreated, randomUUID(), forUser);
      expect(jsonData(await onB.next((e) => e.event === 'notification'))).toEqual(forUser);
    } finally {
      onA.close();
      onB.close();
    }
  });
});

describe('live stream and graceful shutdown', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ apps: { identity: identityApp }, env: { SHUTDOWN_TIMEOUT_MS: '5000' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('ends open streams when the drain starts, so the drain completes (exit code 0)', async () => {
    const streams = [
      await openStream(h.port, { headers: bearer(randomUUID()) }),
      await openStream(h.port, { headers: bearer(randomUUID()) }),
    ];
    await Promise.all(streams.map((s) => s.next((e) => e.event === 'ready')));
    expect(h.gateway.streams.size).toBe(2);
    const code = await h.runtime.shutdown.shutdown();
    expect(code).toBe(0);
    await Promise.all(streams.map((s) => s.ended));
    expect(h.gateway.streams.size).toBe(0);
    expect(logged(h, 'closed live streams for shutdown')).toHaveLength(1);
    await expect(openStream(h.port, { headers: bearer(randomUUID()) })).rejects.toThrow(/ECONNREFUSED/);
  });
});
