/**
 * State API through the official SDK (HTTP) and raw HTTP for status codes, against
 * state.in-memory and state.redis (real Redis, isolated by a unique app id / key prefix).
 */
import { Redis } from 'ioredis';
import { StateConcurrencyEnum, StateConsistencyEnum } from '@dapr/dapr';
import { backendUrls, deleteRedisKeys, uniqueName } from '@quizmesh/platform/testing';
import type { RunningSidecar } from '../src';
import { eventually, raw, removeDir, resourcesDir, sdkClient, sdkError, startTestSidecar, tempDir } from './helpers';

const redisUrl = new URL(backendUrls.redis);
const redisHost = `${redisUrl.hostname}:${redisUrl.port || '6379'}`;

const persistRoot = tempDir('persist');

const backends = [
  {
    kind: 'in-memory',
    component: (name: string) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec: {type: state.in-memory, version: v1}\n`,
  },
  {
    // npm start's store (components/embedded/statestore.yaml): the same behaviour, kept in a file.
    kind: 'in-memory with persistPath',
    component: (name: string) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - {name: persistPath, value: ${JSON.stringify(persistRoot)}}\n`,
  },
  {
    kind: 'redis',
    component: (name: string, extra = '') =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec:\n  type: state.redis\n  version: v1\n  metadata:\n  - {name: redisHost, value: "${redisHost}"}\n${extra}`,
  },
] as const;

describe.each(backends)('state API on state.$kind', ({ kind, component }) => {
  const appId = uniqueName(`st${kind === 'redis' ? 'r' : kind === 'in-memory' ? 'm' : 'p'}`);
  const registryDir = tempDir('reg');
  const resources = resourcesDir({ 'state.yaml': component('statestore') });
  let sidecar: RunningSidecar;
  let client: ReturnType<typeof sdkClient>;

  beforeAll(async () => {
    sidecar = await startTestSidecar({ appId, registryDir, resourcesPaths: [resources] });
    client = sdkClient(sidecar);
  });

  afterAll(async () => {
    await client.stop();
    await sidecar.close();
    if (kind === 'redis') await deleteRedisKeys(`${appId}||*`);
    removeDir(registryDir);
    removeDir(resources);
  });

  it('saves and reads values as JSON with an ETag; a missing key is 204 (SDK: "")', async () => {
    await client.state.save('statestore', [
      { key: 'order-1', value: { id: 1, items: ['a'] } },
      { key: 'greeting', value: 'hello' },
    ]);
    expect(await client.state.get('statestore', 'order-1')).toEqual({ id: 1, items: ['a'] });
    expect(await client.state.get('statestore', 'greeting')).toBe('hello');
    expect(await client.state.get('statestore', 'nope')).toBe('');

    const res = await raw(sidecar, '/v1.0/state/statestore/greeting');
    expect(res.status).toBe(200);
    expect(res.text).toBe('"hello"');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('etag')).toBeTruthy();
    if (kind === 'redis') expect(res.headers.get('etag')).toMatch(/^\d+$/);
    expect((await raw(sidecar, '/v1.0/state/statestore/nope')).status).toBe(204);
  });

  it('rejects a stale ETag with 409 and accepts the current one', async () => {
    await client.state.save('statestore', [{ key: 'counter', value: 1 }]);
    const etag = (await raw(sidecar, '/v1.0/state/statestore/counter')).headers.get('etag') ?? '';
    await client.state.save('statestore', [{ key: 'counter', value: 2, etag }]);
    const newEtag = (await raw(sidecar, '/v1.0/state/statestore/counter')).headers.get('etag');
    expect(newEtag).not.toBe(etag);
    if (kind === 'redis') expect(Number(newEtag)).toBe(Number(etag) + 1);

    const sdkResult = await client.state.save('statestore', [{ key: 'counter', value: 3, etag }]);
    expect(sdkResult.error).toBeDefined();
    const conflict = await raw(sidecar, '/v1.0/state/statestore', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'counter', value: 3, etag }]),
    });
    expect(conflict.status).toBe(409);
    expect(JSON.parse(conflict.text)).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
    expect(JSON.parse(conflict.text).message).toContain('possible etag mismatch');
    expect(await client.state.get('statestore', 'counter')).toBe(2);
  });

  it(
    kind === 'redis'
      ? 'treats a non-numeric ETag as invalid (400) and an ETag on a missing key as a write'
      : 'treats an ETag on a missing key as a conflict (409)',
    async () => {
      const save = (body: unknown) =>
        raw(sidecar, '/v1.0/state/statestore', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      if (kind === 'redis') {
        const invalid = await save([{ key: 'etagged', value: 1, etag: 'not-a-number' }]);
        expect(invalid.status).toBe(400);
        expect(JSON.parse(invalid.text)).toMatchObject({ errorCode: 'ERR_STATE_SAVE' });
        expect((await save([{ key: 'etagged', value: 1, etag: '7' }])).status).toBe(204);
        expect(await client.state.get('statestore', 'etagged')).toBe(1);
      } else {
        expect((await save([{ key: 'etagged', value: 1, etag: 'whatever' }])).status).toBe(409);
        expect(await client.state.get('statestore', 'etagged')).toBe('');
      }
    },
  );

  it('first-write concurrency refuses to overwrite an existing key without an ETag', async () => {
    const firstWrite = {
      concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
      consistency: StateConsistencyEnum.CONSISTENCY_UNSPECIFIED,
    };
    const created = await client.state.save('statestore', [{ key: 'fw', value: 'first', options: firstWrite }]);
    expect(created.error).toBeUndefined();
    const res = await raw(sidecar, '/v1.0/state/statestore', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'fw', value: 'second', options: { concurrency: 'first-write' } }]),
    });
    expect(res.status).toBe(409);
    expect(await client.state.get('statestore', 'fw')).toBe('first');
  });

  it('deletes with If-Match (409 on mismatch) and answers 204 for a missing key', async () => {
    await client.state.save('statestore', [{ key: 'doomed', value: true }]);
    const etag = (await raw(sidecar, '/v1.0/state/statestore/doomed')).headers.get('etag') ?? '';
    const wrong = kind === 'redis' ? String(Number(etag) + 5) : 'wrong';
    const mismatch = await raw(sidecar, '/v1.0/state/statestore/doomed', {
      method: 'DELETE',
      headers: { 'if-match': wrong },
    });
    expect(mismatch.status).toBe(409);
    expect(JSON.parse(mismatch.text)).toMatchObject({ errorCode: 'ERR_STATE_DELETE' });
    const ok = await raw(sidecar, '/v1.0/state/statestore/doomed', { method: 'DELETE', headers: { 'if-match': etag } });
    expect(ok.status).toBe(204);
    expect(await client.state.get('statestore', 'doomed')).toBe('');
    expect((await raw(sidecar, '/v1.0/state/statestore/never-there', { method: 'DELETE' })).status).toBe(204);
    expect((await client.state.delete('statestore', 'never-there')).error).toBeUndefined();
  });

  it('runs transactions atomically: a failed ETag check writes nothing (500 ERR_STATE_TRANSACTION)', async () => {
    await client.state.save('statestore', [{ key: 'tx-a', value: 'a0' }]);
    const etagA = (await raw(sidecar, '/v1.0/state/statestore/tx-a')).headers.get('etag') ?? '';
    const stale = kind === 'redis' ? String(Number(etagA) + 3) : 'stale';
    let thrown: unknown;
    try {
      await client.state.transaction('statestore', [
        { operation: 'upsert', request: { key: 'tx-b', value: 'b1' } },
        { operation: 'delete', request: { key: 'tx-a', etag: { value: stale } } },
      ]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeDefined();
    const { status, body } = sdkError(thrown);
    expect(status).toBe(500);
    expect(body).toMatchObject({ errorCode: 'ERR_STATE_TRANSACTION' });
    expect(await client.state.get('statestore', 'tx-b')).toBe('');
    expect(await client.state.get('statestore', 'tx-a')).toBe('a0');

    await client.state.transaction('statestore', [
      { operation: 'upsert', request: { key: 'tx-b', value: 'b2' } },
      { operation: 'delete', request: { key: 'tx-a', etag: { value: etagA } } },
    ]);
    expect(await client.state.get('statestore', 'tx-b')).toBe('b2');
    expect(await client.state.get('statestore', 'tx-a')).toBe('');
  });

  it('rejects an unknown transaction operation with 400 ERR_NOT_SUPPORTED_STATE_OPERATION', async () => {
    const res = await raw(sidecar, '/v1.0/state/statestore/transaction', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operations: [{ operation: 'merge', request: { key: 'x', value: 1 } }] }),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ errorCode: 'ERR_NOT_SUPPORTED_STATE_OPERATION' });
  });

  it('bulk-gets present and missing keys with unprefixed names', async () => {
    await client.state.save('statestore', [
      { key: 'bulk-1', value: { n: 1 } },
      { key: 'bulk-2', value: 'two' },
    ]);
    const items: unknown[] = await client.state.getBulk('statestore', ['bulk-1', 'bulk-2', 'bulk-missing']);
    const byKey = new Map(items.map((i) => [(i as { key: string }).key, i]));
    expect(byKey.get('bulk-1')).toMatchObject({ key: 'bulk-1', data: { n: 1 } });
    expect(byKey.get('bulk-2')).toMatchObject({ key: 'bulk-2', data: 'two' });
    expect(byKey.get('bulk-1')).toHaveProperty('etag');
    expect(byKey.get('bulk-missing')).toEqual({ key: 'bulk-missing' });
  });

  it('expires values saved with metadata.ttlInSeconds and reports ttlExpireTime', async () => {
    await client.state.save('statestore', [{ key: 'short-lived', value: 'x', metadata: { ttlInSeconds: '1' } }]);
    const res = await raw(sidecar, '/v1.0/state/statestore/short-lived');
    expect(res.status).toBe(200);
    const expiry = Date.parse(res.headers.get('metadata.ttlexpiretime') ?? '');
    expect(Number.isNaN(expiry)).toBe(false);
    await eventually(async () => (await raw(sidecar, '/v1.0/state/statestore/short-lived')).status === 204, 5000);
    await client.state
      .save('statestore', [{ key: 'bad-ttl', value: 'x', metadata: { ttlInSeconds: 'soon' } }])
      .then((r) => expect(r.error).toBeDefined());
  });

  it('rejects keys containing "||" (400) and unknown stores (400 ERR_STATE_STORE_NOT_FOUND)', async () => {
    const badKey = await raw(sidecar, '/v1.0/state/statestore', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'a||b', value: 1 }]),
    });
    expect(badKey.status).toBe(400);
    expect(JSON.parse(badKey.text)).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
    const notJson = await raw(sidecar, '/v1.0/state/statestore', { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    let thrown: unknown;
    try {
      await client.state.get('no-such-store', 'k');
    } catch (err) {
      thrown = err;
    }
    expect(sdkError(thrown)).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_STATE_STORE_NOT_FOUND', message: 'state store no-such-store is not found' },
    });
  });
});

describe('state key prefixes on real Redis', () => {
  const appId = uniqueName('stkp');
  const storeName = uniqueName('kpstore');
  const custom = uniqueName('custom');
  const registryDir = tempDir('reg');
  const redisComponent = (name: string, prefix: string | undefined): string =>
    `---\napiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec:\n  type: state.redis\n  version: v1\n  metadata:\n  - {name: redisHost, value: "${redisHost}"}\n${prefix === undefined ? '' : `  - {name: keyPrefix, value: "${prefix}"}\n`}`;
  const resources = resourcesDir({
    'stores.yaml': [
      redisComponent('byappid', undefined),
      redisComponent(storeName, 'name'),
      redisComponent('bycustom', custom),
      redisComponent('bynone', 'none'),
    ].join(''),
  });
  const redis = new Redis(backendUrls.redis);
  let sidecar: RunningSidecar;
  const noneKey = uniqueName('bare');

  beforeAll(async () => {
    sidecar = await startTestSidecar({ appId, registryDir, resourcesPaths: [resources] });
  });

  afterAll(async () => {
    await sidecar.close();
    for (const pattern of [`${appId}||*`, `${storeName}||*`, `${custom}||*`, noneKey]) await deleteRedisKeys(pattern);
    redis.disconnect();
    removeDir(registryDir);
    removeDir(resources);
  });

  it('stores under appid||, name||, custom|| and bare keys, and answers with unprefixed keys', async () => {
    const client = sdkClient(sidecar);
    await client.state.save('byappid', [{ key: 'k', value: 1 }]);
    await client.state.save(storeName, [{ key: 'k', value: 2 }]);
    await client.state.save('bycustom', [{ key: 'k', value: 3 }]);
    await client.state.save('bynone', [{ key: noneKey, value: 4 }]);
    expect(await redis.hget(`${appId}||k`, 'data')).toBe('1');
    expect(await redis.hget(`${storeName}||k`, 'data')).toBe('2');
    expect(await redis.hget(`${custom}||k`, 'data')).toBe('3');
    expect(await redis.hget(noneKey, 'data')).toBe('4');
    const [item] = await client.state.getBulk('bycustom', ['k']);
    expect(item).toMatchObject({ key: 'k', data: 3 });
    await client.stop();
  });
});

describe('state.in-memory with persistPath (npm start keeps its state across restarts)', () => {
  const registryDir = tempDir('reg');
  const dir = tempDir('persisted');
  const component = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\nspec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - {name: persistPath, value: ${JSON.stringify(dir)}}\n`;
  const resources = resourcesDir({ 'state.yaml': component });

  afterAll(() => {
    removeDir(registryDir);
    removeDir(resources);
    removeDir(dir);
    removeDir(persistRoot);
  });

  it('answers after a restart what it had saved: values, ETags, deletions; expired items stay gone', async () => {
    const appId = uniqueName('stpr');
    const first = await startTestSidecar({ appId, registryDir, resourcesPaths: [resources] });
    const client = sdkClient(first);
    await client.state.save('statestore', [
      { key: 'inbox', value: { items: ['welcome'] } },
      { key: 'gone', value: 1 },
      { key: 'brief', value: 'x', metadata: { ttlInSeconds: '1' } },
    ]);
    await client.state.transaction('statestore', [
      { operation: 'upsert', request: { key: 'dead-letter', value: { topic: 'score.calculated' } } },
      { operation: 'delete', request: { key: 'gone' } },
    ]);
    const etag = (await raw(first, '/v1.0/state/statestore/inbox')).headers.get('etag');
    await client.stop();
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const second = await startTestSidecar({ appId, registryDir, resourcesPaths: [resources] });
    const again = sdkClient(second);
    try {
      expect(await again.state.get('statestore', 'inbox')).toEqual({ items: ['welcome'] });
      expect(await again.state.get('statestore', 'dead-letter')).toEqual({ topic: 'score.calculated' });
      expect(await again.state.get('statestore', 'gone')).toBe('');
      expect(await again.state.get('statestore', 'brief')).toBe('');
      // Optimistic concurrency carries over: the ETag read before the restart still matches.
      expect((await raw(second, '/v1.0/state/statestore/inbox')).headers.get('etag')).toBe(etag);
      const stale = await raw(second, '/v1.0/state/statestore', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { key: 'inbox', value: 1, etag: 'not-the-etag', options: { concurrency: 'first-write' } },
        ]),
      });
      expect(stale.status).toBe(409);
    } finally {
      await again.stop();
      await second.close();
    }
  });

  it('keeps each app’s data apart, and refuses a second sidecar of the same app on the same file', async () => {
    const [one, two] = [uniqueName('stpa'), uniqueName('stpb')];
    const a = await startTestSidecar({ appId: one, registryDir, resourcesPaths: [resources] });
    const b = await startTestSidecar({ appId: two, registryDir, resourcesPaths: [resources] });
    try {
      await sdkClient(a).state.save('statestore', [{ key: 'k', value: 'from a' }]);
      expect(await sdkClient(b).state.get('statestore', 'k')).toBe('');
      // Its own registry: the file lock, not the app-id registry, must refuse it.
      const otherRegistry = tempDir('reg2');
      await expect(
        startTestSidecar({ appId: one, registryDir: otherRegistry, resourcesPaths: [resources] }),
      ).rejects.toThrow(/persistPath.*in use by process/);
      removeDir(otherRegistry);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
