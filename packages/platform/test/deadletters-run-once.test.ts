/**
 * Issue 12, item 4: admin operations run once even when the caller's sidecar times out and
 * retries. The admin calls come as the gateway's do: through a caller sidecar (Dapr service
 * invocation) whose Resiliency is the unsafe kind the chart had (a 200 ms invoke timeout plus
 * retries, here far shorter than the replay takes), on Redis. Every dead letter must be
 * published once: counted at the consumer by event id.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import { USER_ID_HEADER, USER_ROLES_HEADER } from '@quizmesh/platform';
import { deadLetterReplayJobSchema, deadLetterReplayResultSchema } from '@quizmesh/platform/deadletters';
import { eventually } from '@quizmesh/platform/testing';
import { startService, type ServiceUnderTest } from './deadletters-harness';

const PATH = '/api/v1/admin/dead-letters';
const DEAD_LETTERS = 150;
const INVOKE_TIMEOUT_MS = 200;

const unsafePolicy = (appId: string) => `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: { name: unsafe }
spec:
  policies:
    timeouts:
      invoke: ${INVOKE_TIMEOUT_MS}ms
    retries:
      invoke: { policy: constant, duration: 50ms, maxRetries: 3, matching: { httpStatusCodes: '502,503' } }
  targets:
    apps:
      ${appId}: { timeout: invoke, retry: invoke }
`;

let service: ServiceUnderTest;
let caller: RunningSidecar;
let dir: string;

beforeAll(async () => {
  service = await startService('state.redis');
  dir = mkdtempSync(join(tmpdir(), 'qm-run-once-'));
  writeFileSync(join(dir, 'resiliency.yaml'), unsafePolicy(service.appId));
  caller = await startSidecar({
    appId: 'gateway',
    daprHttpPort: 0,
    resourcesPaths: [dir],
    registryDir: service.registryDir,
    logLevel: 'silent',
    env: {},
  });
  await caller.ready;
}, 30_000);

afterAll(async () => {
  await caller?.close();
  await service?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An admin's call as the gateway makes it: through its sidecar, with the caller headers. */
async function invoke(method: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${caller.httpPort}/v1.0/invoke/${service.appId}/method${path}`, {
    method,
    headers: {
      [USER_ID_HEADER]: '0b7d3c1e-6a59-4d83-9f0e-0d6f2a1c9b10',
      [USER_ROLES_HEADER]: 'admin',
      'content-type': 'application/json',
      ...headers,
    },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    location: res.headers.get('location'),
    json: text ? (JSON.parse(text) as unknown) : null,
  };
}

async function deadLetterMany(count: number): Promise<string[]> {
  service.setBehaviour(() => 'DROP');
  const before = (await service.deadLetters.store.ids()).length;
  for (let n = 0; n < count; n += 1) await service.publish('test.happened', { n });
  await eventually(async () => (await service.deadLetters.store.ids()).length === before + count);
  service.setBehaviour(() => 'SUCCESS');
  return service.deadLetters.store.ids();
}

function successfulDeliveriesByEvent(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of service.deliveries) {
    if (d.outcome === 'SUCCESS') counts.set(d.eventId, (counts.get(d.eventId) ?? 0) + 1);
  }
  return counts;
}

it(`replays ${DEAD_LETTERS} dead letters once when replay-all takes longer than the caller's invoke timeout`, async () => {
  await deadLetterMany(DEAD_LETTERS);
  service.deliveries.splice(0);

  // Two starts at once (a retry and a second admin), and the same Idempotency-Key twice.
  const starts = await Promise.all([
    invoke('POST', `${PATH}/replay`),
    invoke('POST', `${PATH}/replay`),
    invoke('POST', `${PATH}/replay`, { 'idempotency-key': 'admin-click-1' }),
    invoke('POST', `${PATH}/replay`, { 'idempotency-key': 'admin-click-1' }),
  ]);
  expect(starts.map((s) => s.status)).toEqual([202, 202, 202, 202]);
  const jobs = starts.map((s) => deadLetterReplayJobSchema.parse(s.json));
  expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
  const [job] = jobs;
  if (!job) throw new Error('no job');
  expect(starts[0]?.location).toBe(`${PATH}/${service.appId}/replay-jobs/${job.id}`);

  let finished = job;
  await eventually(async () => {
    const res = await invoke('GET', `${PATH}/replay-jobs/${job.id}`);
    finished = deadLetterReplayJobSchema.parse(res.json);
    return finished.state !== 'running';
  });
  expect(finished).toMatchObject({ state: 'succeeded', progress: { matched: DEAD_LETTERS, replayed: DEAD_LETTERS } });
  // The precondition of the test: the replay took longer than the caller's timeout.
  expect(Date.parse(finished.finishedAt ?? '') - Date.parse(finished.startedAt)).toBeGreaterThan(INVOKE_TIMEOUT_MS);

  await eventually(() => successfulDeliveriesByEvent().size === DEAD_LETTERS);
  await new Promise((resolve) => setTimeout(resolve, 500)); // room for a duplicate to arrive
  const counts = successfulDeliveriesByEvent();
  expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
  expect(await service.deadLetters.store.ids()).toEqual([]);

  // A start after it finished is a new job, with nothing left to replay.
  const again = await invoke('POST', `${PATH}/replay`, { 'idempotency-key': 'admin-click-2' });
  expect(deadLetterReplayJobSchema.parse(again.json).id).not.toBe(job.id);
}, 60_000);

it('answers a repeated single replay as the first, without publishing again', async () => {
  const [id] = await deadLetterMany(1);
  service.deliveries.splice(0);
  const first = await invoke('POST', `${PATH}/${id}/replay`);
  const second = await invoke('POST', `${PATH}/${id}/replay`);
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(deadLetterReplayResultSchema.parse(second.json)).toEqual(deadLetterReplayResultSchema.parse(first.json));
  await eventually(() => successfulDeliveriesByEvent().size === 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect([...successfulDeliveriesByEvent().values()]).toEqual([1]);
});

it('refuses an Idempotency-Key reused for another topic (422) and a malformed one (400), naming the header', async () => {
  await invoke('POST', `${PATH}/replay`, { 'idempotency-key': 'reused-key' });
  const reused = await fetch(`http://127.0.0.1:${caller.httpPort}/v1.0/invoke/${service.appId}/method${PATH}/replay`, {
    method: 'POST',
    headers: {
      [USER_ID_HEADER]: '0b7d3c1e-6a59-4d83-9f0e-0d6f2a1c9b10',
      [USER_ROLES_HEADER]: 'admin',
      'content-type': 'application/json',
      'idempotency-key': 'reused-key',
    },
    body: JSON.stringify({ topic: 'test.other' }),
  });
  expect(reused.status).toBe(422);
  expect(await reused.json()).toMatchObject({ errors: [{ field: 'headers.idempotency-key' }] });

  const malformed = await invoke('POST', `${PATH}/replay`, { 'idempotency-key': 'x'.repeat(300) });
  expect(malformed.status).toBe(400);
  expect(malformed.json).toMatchObject({ errors: [{ field: 'headers.idempotency-key' }] });
});
