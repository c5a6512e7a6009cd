/**
 * The controller through @kubernetes/client-node against the fake API server, reconciling into the
 * real quiz service (PostgreSQL, local sidecars, Dapr service invocation).
 */
import { QUIZ_RESOURCE, quizResourceStatusSchema } from '@quizmesh/contracts/quiz-resource';
import {
  EVENTS,
  LEASES,
  NAMESPACE,
  QUIZZES,
  eventually,
  quizObject,
  quizSpec,
  startOperatorWorld,
  type OperatorWorld,
  type Replica,
} from './support';

jest.setTimeout(60_000);

let world: OperatorWorld;
let leader: Replica;

beforeAll(async () => {
  world = await startOperatorWorld();
  leader = world.replica('operator-a');
  await eventually(() => expect(leader.elector.isLeader()).toBe(true));
});
afterAll(async () => {
  await world?.stop();
});

const statusOf = (name: string) => {
  const object = world.api.get(QUIZZES, NAMESPACE, name);
  if (!object) throw new Error(`${name} is gone`);
  return { object, status: quizResourceStatusSchema.parse(object.status ?? {}) };
};
const condition = (name: string, type: string) => statusOf(name).status.conditions?.find((c) => c.type === type);
const quizRow = (id: string) => world.quiz.prisma.quiz.findUniqueOrThrow({ where: { id } });
const events = (name: string) =>
  world.api
    .list(EVENTS, NAMESPACE)
    .filter((e) => (e.involvedObject as { name?: string }).name === name)
    .map((e) => `${String(e.type)}/${String(e.reason)}`);

async function readyQuiz(name: string, generation: number) {
  return eventually(() => {
    const { object, status } = statusOf(name);
    expect(status.observedGeneration).toBe(generation);
    expect(object.metadata.generation).toBe(generation);
    expect(condition(name, 'Ready')?.status).toBe('True');
    if (!status.quizId) throw new Error('no quiz id yet');
    return { object, status, quizId: status.quizId };
  });
}

it('creates and publishes the quiz, with finalizer, status, conditions and events', async () => {
  world.api.put(QUIZZES, NAMESPACE, quizObject('capitals', quizSpec()));
  const { object, status, quizId } = await readyQuiz('capitals', 1);
  expect(object.metadata.finalizers).toEqual([QUIZ_RESOURCE.finalizer]);
  expect(status.publishedVersion).toBe(1);
  expect(condition('capitals', 'Published')).toMatchObject({ status: 'True', reason: 'Published' });
  expect(condition('capitals', 'Synced')).toMatchObject({
    status: 'True',
    reason: 'Reconciled',
    observedGeneration: 1,
  });
  const row = await quizRow(quizId);
  expect(row).toMatchObject({ status: 'published', publishedVersion: 1, managedBy: `${NAMESPACE}/capitals` });
  expect(events('capitals')).toEqual(expect.arrayContaining(['Normal/QuizCreated', 'Normal/Published']));
});

it('turns a spec change of a published quiz into a new published version', async () => {
  const before = statusOf('capitals');
  world.api.put(QUIZZES, NAMESPACE, { ...before.object, spec: quizSpec({ title: 'Capitals of Europe, revised' }) });
  const { status, quizId } = await readyQuiz('capitals', 2);
  expect(status.publishedVersion).toBe(2);
  const version = await world.quiz.prisma.quizVersion.findUniqueOrThrow({
    where: { quizId_version: { quizId, version: 2 } },
  });
  expect(version).toMatchObject({ title: 'Capitals of Europe, revised', status: 'published' });
});

it('repairs drift: a direct change to the quiz is overwritten by the next resync', async () => {
  const { status } = statusOf('capitals');
  const quizId = status.quizId ?? '';
  await world.quiz.prisma.quizVersion.update({
    where: { quizId_version: { quizId, version: 2 } },
    data: { title: 'Changed behind our back' },
  });
  await eventually(async () => {
    const row = await quizRow(quizId);
    expect(row.publishedVersion).toBe(3);
    const version = await world.quiz.prisma.quizVersion.findUniqueOrThrow({
      where: { quizId_version: { quizId, version: 3 } },
    });
    expect(version.title).toBe('Capitals of Europe, revised');
  });
});

it('keeps a draft unpublished while spec.publish is false', async () => {
  world.api.put(QUIZZES, NAMESPACE, quizObject('draft-only', quizSpec({ publish: false, title: 'Not yet' })));
  const { quizId, status } = await readyQuiz('draft-only', 1);
  expect(status.publishedVersion).toBeUndefined();
  expect(condition('draft-only', 'Published')).toMatchObject({ status: 'False', reason: 'Draft' });
  expect((await quizRow(quizId)).status).toBe('draft');
});

it('reports an invalid spec as a condition and a Warning event, and creates nothing', async () => {
  const quizzesBefore = await world.quiz.prisma.quiz.count();
  world.api.put(QUIZZES, NAMESPACE, quizObject('broken', quizSpec({ timeLimitSeconds: 1, difficulty: 'impossible' })));
  await eventually(() => {
    expect(condition('broken', 'Synced')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(condition('broken', 'Synced')?.message).toContain('spec.timeLimitSeconds');
    expect(condition('broken', 'Synced')?.message).toContain('spec.difficulty');
    expect(events('broken')).toContain('Warning/InvalidSpec');
  });
  expect(await world.quiz.prisma.quiz.count()).toBe(quizzesBefore);
});

it('never overwrites a change made between its read and its write (409 on a stale resourceVersion)', async () => {
  let interleaved = false;
  world.api.beforeWrite = (write) => {
    // The operator's first write to this resource is its finalizer: a user edits the spec just before.
    if (!interleaved && write.name === 'raced' && write.method === 'PUT' && write.subresource === undefined) {
      interleaved = true;
      const current = world.api.get(QUIZZES, NAMESPACE, 'raced');
      if (current) world.api.put(QUIZZES, NAMESPACE, { ...current, spec: quizSpec({ title: 'The user wins' }) });
    }
  };
  try {
    world.api.put(QUIZZES, NAMESPACE, quizObject('raced', quizSpec({ title: 'Stale' })));
    const { quizId, object } = await readyQuiz('raced', 2);
    expect(interleaved).toBe(true);
    expect(object.spec).toMatchObject({ title: 'The user wins' });
    expect(object.metadata.finalizers).toEqual([QUIZ_RESOURCE.finalizer]);
    expect(world.api.requests.some((r) => r.path.endsWith('/quizzes/raced') && r.status === 409)).toBe(true);
    const versions = await world.quiz.prisma.quizVersion.findMany({ where: { quizId }, orderBy: { version: 'desc' } });
    expect(versions[0]?.title).toBe('The user wins');
  } finally {
    world.api.beforeWrite = undefined;
  }
});

it('archives the quiz before the resource goes (finalizer)', async () => {
  world.api.put(QUIZZES, NAMESPACE, quizObject('short-lived', quizSpec()));
  const { quizId } = await readyQuiz('short-lived', 1);
  world.api.remove(QUIZZES, NAMESPACE, 'short-lived');
  await eventually(() => expect(world.api.get(QUIZZES, NAMESPACE, 'short-lived')).toBeUndefined());
  const row = await quizRow(quizId);
  expect(row.status).toBe('archived');
  expect(row.managedBy).toBeNull();
  expect(events('short-lived')).toContain('Normal/Archived');
});

it('informer: resumes from a bookmark without re-listing, and re-lists after 410 Gone', async () => {
  const { source } = leader;
  const listsBefore = source.counters.lists;
  // Changes elsewhere move the resourceVersion on; a bookmark tells the watcher, and the history
  // before it is forgotten in the same instant.
  world.api.put(LEASES, 'elsewhere', { metadata: { name: 'unrelated' }, spec: {} });
  const marked = Number(world.api.resourceVersion());
  world.api.bookmark();
  world.api.compact();
  await eventually(() => expect(Number(source.latestResourceVersion())).toBeGreaterThanOrEqual(marked));
  world.api.closeWatches();
  world.api.put(QUIZZES, NAMESPACE, quizObject('after-bookmark', quizSpec()));
  await readyQuiz('after-bookmark', 1);
  expect(source.counters.lists).toBe(listsBefore);
  expect(source.counters.gone).toBe(0);
  expect(source.counters.bookmarks).toBeGreaterThan(0);

  // Now the watcher's resourceVersion is left behind: the next watch gets 410, then a new list.
  world.api.put(LEASES, 'elsewhere', { metadata: { name: 'unrelated-2' }, spec: {} });
  world.api.compact();
  world.api.closeWatches();
  world.api.put(QUIZZES, NAMESPACE, quizObject('after-gone', quizSpec()));
  await readyQuiz('after-gone', 1);
  expect(source.counters.gone).toBeGreaterThan(0);
  expect(source.counters.lists).toBeGreaterThan(listsBefore);
});

it('retries an unreachable quiz service with back-off, never in a hot loop, and says so once', async () => {
  const namespace = 'quiz-down';
  const cut = world.replica('operator-cut-off', { namespace, quizAppId: 'quiz-unreachable' });
  await eventually(() => expect(cut.elector.isLeader()).toBe(true));
  world.api.put(QUIZZES, namespace, { ...quizObject('waiting', quizSpec()), metadata: { name: 'waiting', namespace } });
  await eventually(() => {
    const status = quizResourceStatusSchema.parse(world.api.get(QUIZZES, namespace, 'waiting')?.status ?? {});
    expect(status.conditions?.find((c) => c.type === 'Synced')).toMatchObject({
      status: 'False',
      reason: 'QuizServiceUnavailable',
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  // Back-off 0.1 s doubling to 1 s (this replica's queue): about 6 attempts in 3 s, not hundreds.
  expect(cut.controller.counters.failures).toBeGreaterThanOrEqual(3);
  expect(cut.controller.counters.failures).toBeLessThanOrEqual(10);
  const warnings = world.api
    .list(EVENTS, namespace)
    .filter((e) => e.reason === 'QuizServiceUnavailable' && e.type === 'Warning');
  expect(warnings).toHaveLength(1);
  await cut.stop();
});

it('two replicas: only the Lease holder reconciles; the standby takes over when the leader stops', async () => {
  const standby = world.replica('operator-b');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(leader.elector.isLeader()).toBe(true);
  expect(standby.elector.isLeader()).toBe(false);
  world.api.put(QUIZZES, NAMESPACE, quizObject('one-leader', quizSpec()));
  await readyQuiz('one-leader', 1);
  expect(standby.controller.counters.reconciles).toBe(0);
  const lease = world.api.get(LEASES, NAMESPACE, 'quizmesh-operator');
  expect((lease?.spec as { holderIdentity?: string }).holderIdentity).toBe('operator-a');

  await leader.stop();
  await eventually(() => expect(standby.elector.isLeader()).toBe(true), 10_000);
  const current = statusOf('one-leader').object;
  world.api.put(QUIZZES, NAMESPACE, { ...current, spec: quizSpec({ title: 'Reconciled by the new leader' }) });
  await readyQuiz('one-leader', 2);
  expect(standby.controller.counters.reconciles).toBeGreaterThan(0);
  leader = standby;
});
