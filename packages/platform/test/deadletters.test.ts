/**
 * Dead letters through the real local sidecar: a consumer's DROP/RETRY sends the event to
 * `<topic>.deadletter` (Dapr), the helper stores it in the state store (in-memory and Redis),
 * and the admin API lists, replays, replays all and discards.
 */
import { z } from 'zod';
import {
  deadLetterListSchema,
  deadLetterReplayAllResultSchema,
  deadLetterReplayJobSchema,
  deadLetterReplayResultSchema,
  DeadLetterStore,
  DeadLetterStoreFullError,
  type DeadLetter,
} from '@quizmesh/platform/deadletters';
import { OptimisticState } from '@quizmesh/platform';
import { startService, type ServiceUnderTest, type StateBackend } from './deadletters-harness';
import { eventually } from '@quizmesh/platform/testing';

const PATH = '/api/v1/admin/dead-letters';
const ADMIN = 'player,admin';

const problemSchema = z.object({
  status: z.number(),
  detail: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

describe.each<StateBackend>(['state.in-memory', 'state.redis'])('dead letters with %s', (backend) => {
  let service: ServiceUnderTest;

  beforeAll(async () => {
    service = await startService(backend);
  });

  afterAll(async () => {
    await service?.stop();
  });

  beforeEach(async () => {
    service.setBehaviour(() => 'SUCCESS');
    service.deliveries.splice(0);
    service.hookCalls.splice(0);
    await service.deadLetters.store.clear();
  });

  async function list(query = ''): Promise<DeadLetter[]> {
    const res = await service.call('GET', `${PATH}${query}`, { roles: ADMIN });
    expect(res.status).toBe(200);
    return deadLetterListSchema.parse(res.json).items;
  }

  /** Starts a replay-all job (202 + Location) and polls it until it succeeded; its final counts. */
  async function replayAllJob(body?: object) {
    const started = await service.call('POST', `${PATH}/replay`, { roles: ADMIN, ...(body ? { body } : {}) });
    expect(started.status).toBe(202);
    const job = deadLetterReplayJobSchema.parse(started.json);
    expect(started.location).toBe(`${PATH}/${service.appId}/replay-jobs/${job.id}`);
    let current = job;
    await eventually(async () => {
      const res = await service.call('GET', `${PATH}/replay-jobs/${job.id}`, { roles: ADMIN });
      current = deadLetterReplayJobSchema.parse(res.json);
      return current.state !== 'running';
    });
    expect(current.state).toBe('succeeded');
    return deadLetterReplayAllResultSchema.parse(current.progress);
  }

  async function waitForDeadLetters(count: number): Promise<DeadLetter[]> {
    await eventually(async () => (await service.deadLetters.store.ids()).length >= count);
    return list('?limit=100');
  }

  it('stores an event the consumer DROPs, via the dead-letter topic, and lists it', async () => {
    service.setBehaviour(() => 'DROP');
    await service.publish('test.happened', { n: 1 });

    const [deadLetter, ...others] = await waitForDeadLetters(1);
    expect(others).toEqual([]);
    const delivered = service.deliveries.filter((d) => d.topic === 'test.happened');
    expect(delivered).toHaveLength(1);
    expect(deadLetter).toMatchObject({
      eventId: delivered[0]?.eventId,
      topic: 'test.happened',
      type: 'com.dapr.event.sent',
      source: service.appId,
      deliveryCount: 1,
      event: { id: delivered[0]?.eventId, data: { n: 1 } },
    });
    expect(deadLetter?.firstSeenAt).toBe(deadLetter?.lastSeenAt);
    expect(service.hookCalls).toMatchObject([
      { topic: 'test.happened', eventId: delivered[0]?.eventId, firstTime: true },
    ]);
  });

  it('dead-letters an event after the Resiliency retries of a consumer answering RETRY', async () => {
    service.setBehaviour(() => 'RETRY');
    await service.publish('test.other', { n: 2 });

    const [deadLetter] = await waitForDeadLetters(1);
    expect(deadLetter).toMatchObject({ topic: 'test.other', event: { data: { n: 2 } } });
    // One delivery and the policy's two retries, then the dead-letter topic.
    expect(service.deliveries.map((d) => d.outcome)).toEqual(['RETRY', 'RETRY', 'RETRY']);
  });

  it('replays one dead letter with its id and data to the fixed consumer, then removes it', async () => {
    service.setBehaviour(() => 'DROP');
    await service.publish('test.happened', { n: 3 });
    const [deadLetter] = await waitForDeadLetters(1);
    if (!deadLetter) throw new Error('no dead letter');

    service.setBehaviour(() => 'SUCCESS'); // the fix is deployed
    const res = await service.call('POST', `${PATH}/${deadLetter.id}/replay`, { roles: ADMIN });
    expect(res.status).toBe(200);
    expect(deadLetterReplayResultSchema.parse(res.json)).toEqual({
      id: deadLetter.id,
      eventId: deadLetter.eventId,
      topic: 'test.happened',
      outcome: 'replayed',
    });

    await eventually(() => service.deliveries.some((d) => d.outcome === 'SUCCESS'));
    expect(service.deliveries.map((d) => [d.eventId, d.data, d.outcome])).toEqual([
      [deadLetter.eventId, { n: 3 }, 'DROP'],
      [deadLetter.eventId, { n: 3 }, 'SUCCESS'],
    ]);
    expect(await list()).toEqual([]);
    const [resolved] = await list('?status=resolved');
    expect(resolved).toMatchObject({ id: deadLetter.id, status: 'resolved', resolution: 'replayed' });
    // replayedAt: when it was republished; resolvedAt: when that was recorded, just after.
    expect(Date.parse(resolved?.replayedAt ?? '')).toBeLessThanOrEqual(Date.parse(resolved?.resolvedAt ?? ''));
    expect(resolved?.history.map((h) => h.what)).toEqual(['failed', 'replayed']);

    // The same request again (a retry after a timeout): the same answer, nothing published again.
    const again = await service.call('POST', `${PATH}/${deadLetter.id}/replay`, { roles: ADMIN });
    expect([again.status, deadLetterReplayResultSchema.parse(again.json).outcome]).toEqual([200, 'replayed']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(service.deliveries).toHaveLength(2);
  });

  it('keeps a replay that fails again listed, counting the second arrival', async () => {
    service.setBehaviour(() => 'DROP');
    await service.publish('test.happened', { n: 4 });
    const [deadLetter] = await waitForDeadLetters(1);
    if (!deadLetter) throw new Error('no dead letter');

    // Still broken: the replay comes back to the dead-letter topic (before or after the replay
    // finished removing it; either way it must be listed again, never lost).
    const res = await service.call('POST', `${PATH}/${deadLetter.id}/replay`, { roles: ADMIN });
    const { outcome } = deadLetterReplayResultSchema.parse(res.json);
    expect(['replayed', 'dead-lettered-again']).toContain(outcome);
    await eventually(() => service.hookCalls.length === 2);
    const [again, ...others] = await list();
    expect(others).toEqual([]);
    // Before or after the replay finished, it is the same dead letter with its history (issue 12).
    expect(again).toMatchObject({
      id: deadLetter.id,
      eventId: deadLetter.eventId,
      event: { data: { n: 4 } },
      status: 'open',
      resolution: null,
      deliveryCount: 2,
      firstSeenAt: deadLetter.firstSeenAt,
    });
    expect(again?.replayedAt).not.toBeNull();
    expect(again?.history.map((h) => h.what)).toEqual(['failed', 'replayed', 'failed']);
  });

  it('replays all dead letters of one topic, then all, reporting counts', async () => {
    service.setBehaviour(() => 'DROP');
    await service.publish('test.happened', { n: 10 });
    await service.publish('test.happened', { n: 11 });
    await service.publish('test.other', { n: 12 });
    await waitForDeadLetters(3);
    service.setBehaviour(() => 'SUCCESS');

    const one = await replayAllJob({ topic: 'test.happened' });
    expect(one).toEqual({
      matched: 2,
      replayed: 2,
      deadLetteredAgain: 0,
      alreadyGone: 0,
      failed: [],
      remaining: 0,
    });
    expect((await list()).map((d) => d.topic)).toEqual(['test.other']);

    const all = await replayAllJob();
    expect(all).toMatchObject({ matched: 1, replayed: 1, failed: [] });
    await eventually(() => service.deliveries.filter((d) => d.outcome === 'SUCCESS').length === 3);
    expect(
      service.deliveries
        .filter((d) => d.outcome === 'SUCCESS')
        .map((d) => d.data.n)
        .sort(),
    ).toEqual([10, 11, 12]);
    expect(await list()).toEqual([]);
  });

  it('forgets the oldest resolved dead letters beyond its limit, and counts only open ones against the cap', async () => {
    const store = new DeadLetterStore(
      new OptimisticState(service.runtime.dapr, 'statestore'),
      `${service.appId}-small`,
      2,
      2,
    );
    try {
      const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      const ids: string[] = [];
      for (let n = 0; n < 4; n += 1) {
        ids.push((await store.record('test.happened', `evict-${n}`, { id: `evict-${n}` }, at(n))).id);
        // Resolved ones do not count against maxEntries (2): a third open one would be refused.
        expect(await store.resolve(ids[n] ?? '', 'discarded', at(10 + n))).toBe('resolved');
      }
      const resolved = await store.list({ status: 'resolved', limit: 10 });
      expect(resolved.items.map((d) => d.eventId).sort()).toEqual(['evict-2', 'evict-3']);
      expect(await store.get(ids[0] ?? '')).toBeUndefined();
      await store.record('test.happened', 'open-1', { id: 'open-1' }, at(30));
      await store.record('test.happened', 'open-2', { id: 'open-2' }, at(31));
      await expect(store.record('test.happened', 'open-3', { id: 'open-3' }, at(32))).rejects.toBeInstanceOf(
        DeadLetterStoreFullError,
      );
    } finally {
      await store.clear();
    }
  });

  it('discards a dead letter; unknown ids are 404, malformed ones 400 naming the field', async () => {
    service.setBehaviour(() => 'DROP');
    await service.publish('test.other', { n: 5 });
    const [deadLetter] = await waitForDeadLetters(1);
    if (!deadLetter) throw new Error('no dead letter');

    expect((await service.call('DELETE', `${PATH}/${deadLetter.id}`, { roles: ADMIN })).status).toBe(204);
    expect(await list()).toEqual([]);
    expect(await list('?status=resolved')).toMatchObject([{ id: deadLetter.id, resolution: 'discarded' }]);
    // DELETE is idempotent: a retried discard is fine; a discarded dead letter is not replayed.
    expect((await service.call('DELETE', `${PATH}/${deadLetter.id}`, { roles: ADMIN })).status).toBe(204);
    const replay = await service.call('POST', `${PATH}/${deadLetter.id}/replay`, { roles: ADMIN });
    expect(deadLetterReplayResultSchema.parse(replay.json).outcome).toBe('already-gone');
    const unknown = await service.call('DELETE', `${PATH}/AAAAAAAAAAAAAAAAAAAAAA`, { roles: ADMIN });
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');

    const malformed = await service.call('DELETE', `${PATH}/not-an-id`, { roles: ADMIN });
    expect(malformed.status).toBe(400);
    expect(problemSchema.parse(malformed.json).errors?.map((e) => e.field)).toEqual(['params.id']);
  });

  it('refuses non-admins (403) and anonymous callers (401) on every endpoint', async () => {
    const id = 'AAAAAAAAAAAAAAAAAAAAAA';
    const endpoints: Array<[string, string]> = [
      ['GET', PATH],
      ['POST', `${PATH}/replay`],
      ['POST', `${PATH}/${id}/replay`],
      ['DELETE', `${PATH}/${id}`],
      ['GET', `${PATH}/replay-jobs/${id}`],
    ];
    for (const [method, path] of endpoints) {
      const player = await service.call(method, path, { roles: 'player,author' });
      expect([method, path, player.status, player.type]).toEqual([
        method,
        path,
        403,
        expect.stringContaining('application/problem+json'),
      ]);
      expect((await service.call(method, path)).status).toBe(401);
    }
  });

  it('answers bad list and replay-all input with 400 problem+json naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['?topic=nope', 'query.topic'],
      ['?limit=0', 'query.limit'],
      ['?limit=many', 'query.limit'],
      ['?cursor=!!', 'query.cursor'],
      ['?cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['?unknown=1', 'query'],
    ];
    for (const [query, field] of cases) {
      const res = await service.call('GET', `${PATH}${query}`, { roles: ADMIN });
      expect([query, res.status, res.type]).toEqual([query, 400, expect.stringContaining('application/problem+json')]);
      expect(problemSchema.parse(res.json).errors?.map((e) => e.field)).toContain(field);
    }
    const replayAll = await service.call('POST', `${PATH}/replay`, { roles: ADMIN, body: { topic: 'test.unknown' } });
    expect(replayAll.status).toBe(400);
    expect(problemSchema.parse(replayAll.json).errors?.map((e) => e.field)).toEqual(['body.topic']);
  });

  it('keeps every one of many concurrent dead letters and pages through them newest first', async () => {
    service.setBehaviour(() => 'DROP');
    const count = 30;
    await Promise.all(
      Array.from({ length: count }, (_, n) => service.publish(n % 2 ? 'test.other' : 'test.happened', { n })),
    );
    await eventually(async () => (await service.deadLetters.store.ids()).length === count);
    // Every dead letter also arrived completely (the hook ran after it was stored).
    await eventually(() => service.hookCalls.length === count);

    const seen: DeadLetter[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res = await service.call('GET', `${PATH}?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { roles: ADMIN });
      const page = deadLetterListSchema.parse(res.json);
      expect(page.total).toBe(count);
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(
      seen
        .map((d) => d.event.data)
        .sort((a, b) => z.object({ n: z.number() }).parse(a).n - z.object({ n: z.number() }).parse(b).n),
    ).toEqual(Array.from({ length: count }, (_, n) => ({ n })));
    expect(new Set(seen.map((d) => d.id)).size).toBe(count);
    const times = seen.map((d) => d.firstSeenAt);
    expect(times).toEqual([...times].sort().reverse());

    const other = await list('?topic=test.other&limit=100');
    expect(other).toHaveLength(count / 2);
    expect(other.every((d) => d.topic === 'test.other')).toBe(true);
  });

  it('counts a redelivered dead letter once, by event id, with its delivery count', async () => {
    const event = {
      specversion: '1.0',
      id: `evt-${backend}-dup`,
      type: 'dev.quizmesh.test.v1',
      source: 'test',
      datacontenttype: 'application/json',
      data: { n: 6 },
    };
    await service.publish('test.happened.deadletter', event, 'application/cloudevents+json');
    await waitForDeadLetters(1);
    await service.publish('test.happened.deadletter', event, 'application/cloudevents+json');
    await eventually(async () => (await list())[0]?.deliveryCount === 2);

    const [deadLetter, ...others] = await list();
    expect(others).toEqual([]);
    expect(deadLetter).toMatchObject({
      eventId: event.id,
      topic: 'test.happened',
      type: event.type,
      source: 'test',
      deliveryCount: 2,
    });
    expect(service.hookCalls.map((c) => c.firstTime)).toEqual([true, false]);
  });
});
