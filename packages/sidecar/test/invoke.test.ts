/**
 * Service invocation app → sidecar A → sidecar B → app B over the local registry, through the
 * official SDK and raw HTTP: passthrough of status/body/headers, trace propagation, ACL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpMethod } from '@dapr/dapr';
import type { RunningSidecar } from '../src';
import { NEVER_ABORTED } from '../src/resiliency/policy';
import {
  abortDependants,
  raw,
  removeDir,
  resourcesDir,
  sdkClient,
  sdkError,
  startTestApp,
  startTestSidecar,
  tempDir,
  type TestApp,
} from './helpers';

const CALLEE_CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: calleeconfig}
spec:
  tracing: {samplingRate: "1"}
  accessControl:
    defaultAction: deny
    trustDomain: public
    policies:
    - appId: inv-caller
      defaultAction: deny
      operations:
      - {name: /echo/**, httpVerb: ['*'], action: allow}
      - {name: /fail/*, httpVerb: [GET, POST], action: allow}
      - {name: /admin/*, httpVerb: [GET], action: deny}
`;

describe('service invocation between two local sidecars', () => {
  const registryDir = tempDir('reg');
  const configDir = tempDir('cfg');
  const configPath = join(configDir, 'config.yaml');
  writeFileSync(configPath, CALLEE_CONFIG);
  let calleeApp: TestApp;
  let caller: RunningSidecar;
  let callee: RunningSidecar;
  let stranger: RunningSidecar;

  beforeAll(async () => {
    calleeApp = await startTestApp((req, res) => {
      if (req.url.startsWith('/fail/teapot')) {
        res.writeHead(418, { 'content-type': 'text/plain', 'x-reason': 'short and stout' });
        res.end('I am a teapot');
      } else if (req.url.startsWith('/fail/unavailable')) {
        res.writeHead(503, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ title: 'down for maintenance' }));
      } else {
        res.writeHead(201, { 'content-type': 'application/json', 'x-app': 'callee' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body: req.body }));
      }
    });
    callee = await startTestSidecar({ appId: 'inv-callee', appPort: calleeApp.port, registryDir, configPath });
    caller = await startTestSidecar({ appId: 'inv-caller', registryDir });
    stranger = await startTestSidecar({ appId: 'inv-stranger', registryDir });
    await callee.ready;
  });

  afterAll(async () => {
    await Promise.all([caller.close(), callee.close(), stranger.close()]);
    await calleeApp.close();
    removeDir(registryDir);
    removeDir(configDir);
  });

  it('invokes through the SDK and forwards method, path, query, body and headers', async () => {
    const client = sdkClient(caller);
    const result = await client.invoker.invoke(
      'inv-callee',
      'echo/orders?page=2',
      HttpMethod.POST,
      { item: 'book' },
      { headers: { 'x-custom': 'kept' } },
    );
    expect(result).toEqual({ method: 'POST', url: '/echo/orders?page=2', body: JSON.stringify({ item: 'book' }) });
    await client.stop();
    const seen = calleeApp.requests.at(-1);
    expect(seen?.headers['x-custom']).toBe('kept');
    expect(seen?.headers['content-type']).toContain('application/json');
    expect(seen?.headers['dapr-caller-app-id']).toBe('inv-caller');
    expect(seen?.headers['dapr-callee-app-id']).toBe('inv-callee');
    expect(seen?.headers['dapr-api-token']).toBeUndefined();
    expect(seen?.headers['dapr-app-id']).toBeUndefined();
    expect(Object.keys(seen?.headers ?? {}).filter((h) => h.startsWith('x-quizmesh'))).toEqual([]);
  });

  it('passes the callee status, content type, headers and body through unchanged', async () => {
    const ok = await raw(caller, '/v1.0/invoke/inv-callee/method/echo/x', {
      method: 'PUT',
      body: 'plain',
      headers: { 'content-type': 'text/plain' },
    });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('x-app')).toBe('callee');
    expect(JSON.parse(ok.text)).toEqual({ method: 'PUT', url: '/echo/x', body: 'plain' });

    const teapot = await raw(caller, '/v1.0/invoke/inv-callee/method/fail/teapot');
    expect(teapot.status).toBe(418);
    expect(teapot.text).toBe('I am a teapot');
    expect(teapot.headers.get('content-type')).toBe('text/plain');
    expect(teapot.headers.get('x-reason')).toBe('short and stout');

    const unavailable = await raw(caller, '/v1.0/invoke/inv-callee/method/fail/unavailable', { method: 'POST' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.parse(unavailable.text)).toEqual({ title: 'down for maintenance' });

    const client = sdkClient(caller);
    const thrown = await client.invoker.invoke('inv-callee', 'fail/teapot', HttpMethod.GET).then(
      () => undefined,
      (err: unknown) => err,
    );
    await client.stop();
    expect(sdkError(thrown)).toMatchObject({ status: 418, body: 'I am a teapot' });
  });

  it('keeps the trace id of an incoming traceparent and adds a new span id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpan = '00f067aa0ba902b7';
    await raw(caller, '/v1.0/invoke/inv-callee/method/echo/trace', {
      headers: { traceparent: `00-${traceId}-${parentSpan}-01`, tracestate: 'vendor=1' },
    });
    const seen = calleeApp.requests.at(-1);
    const traceparent = String(seen?.headers.traceparent);
    const [, seenTrace, seenSpan, flags] = traceparent.split('-');
    expect(seenTrace).toBe(traceId);
    expect(seenSpan).toMatch(/^[0-9a-f]{16}$/);
    expect(seenSpan).not.toBe(parentSpan);
    expect(flags).toBe('01');
    expect(seen?.headers.tracestate).toBe('vendor=1');
  });

  it('routes any path with a dapr-app-id header (and Basic dapr-app-id auth) to the target app', async () => {
    const viaHeader = await raw(caller, '/echo/by-header?x=1', { headers: { 'dapr-app-id': 'inv-callee' } });
    expect(viaHeader.status).toBe(201);
    expect(JSON.parse(viaHeader.text)).toMatchObject({ url: '/echo/by-header?x=1' });
    const basic = Buffer.from('dapr-app-id:inv-callee').toString('base64');
    const viaBasic = await raw(caller, '/echo/by-basic', { headers: { authorization: `Basic ${basic}` } });
    expect(JSON.parse(viaBasic.text)).toMatchObject({ url: '/echo/by-basic' });
  });

  it('denies operations the callee access control does not allow (403) without reaching the app', async () => {
    const before = calleeApp.requests.length;
    const denied = await raw(caller, '/v1.0/invoke/inv-callee/method/admin/users');
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.text)).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
    expect(JSON.parse(denied.text).message).toContain('access control policy has denied access');
    const wrongVerb = await raw(caller, '/v1.0/invoke/inv-callee/method/fail/teapot', { method: 'DELETE' });
    expect(wrongVerb.status).toBe(403);
    const unlisted = await raw(caller, '/v1.0/invoke/inv-callee/method/other');
    expect(unlisted.status).toBe(403);
    const strangerCall = await raw(stranger, '/v1.0/invoke/inv-callee/method/echo/x');
    expect(strangerCall.status).toBe(403);
    expect(calleeApp.requests.length).toBe(before);
  });

  it('answers 500 ERR_DIRECT_INVOKE for an app id that is not running, and 404 without any app id', async () => {
    const missing = await raw(caller, '/v1.0/invoke/nobody-home/method/x');
    expect(missing.status).toBe(500);
    expect(JSON.parse(missing.text)).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
    expect(JSON.parse(missing.text).message).toContain('failed to invoke, id: nobody-home');

    // A registry entry whose process is gone is ignored.
    writeFileSync(
      join(registryDir, 'ghost.json'),
      JSON.stringify({ appId: 'ghost', httpPort: 1, pid: 2 ** 22 + 7, internalToken: 'x', startedAt: '' }),
    );
    expect((await raw(caller, '/v1.0/invoke/ghost/method/x')).status).toBe(500);

    const noAppId = await raw(caller, '/some/random/path');
    expect(noAppId.status).toBe(404);
    expect(JSON.parse(noAppId.text)).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
  });

  it('leaves no reference behind on a signal that lives as long as the sidecar, call after call', async () => {
    // Calls without a timeout run under NEVER_ABORTED; combining it with the caller's
    // connection signal through AbortSignal.any would record one composite on it per call.
    const before = abortDependants(NEVER_ABORTED);
    for (let i = 0; i < 5; i += 1) {
      const res = await raw(caller, '/v1.0/invoke/inv-callee/method/echo/leak', { method: 'POST', body: '{}' });
      expect(res.status).toBe(201);
    }
    expect(abortDependants(NEVER_ABORTED)).toBe(before);
  });

  it('refuses the internal endpoint without the registry token', async () => {
    const forged = await raw(callee, '/_quizmesh/v1/invoke/echo/x', {
      headers: { 'x-quizmesh-sidecar-caller-app-id': 'inv-caller', 'x-quizmesh-sidecar-internal-token': 'guess' },
    });
    expect(forged.status).toBe(403);
  });

  it('answers 500 ERR_DIRECT_INVOKE when the callee app is down, and removes its registry entry on close', async () => {
    const gone = await startTestApp((_req, res) => void res.end());
    const port = gone.port;
    await gone.close();
    const orphan = await startTestSidecar({ appId: 'inv-orphan', appPort: port, registryDir });
    const res = await raw(caller, '/v1.0/invoke/inv-orphan/method/x');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.text)).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
    await orphan.close();
    const after = await raw(caller, '/v1.0/invoke/inv-orphan/method/x');
    expect(JSON.parse(after.text).message).toContain('not running');
  });
});

describe('invocation without access control', () => {
  it('allows every caller when the callee has no Configuration', async () => {
    const registryDir = tempDir('reg');
    const emptyResources = resourcesDir({});
    const app = await startTestApp((_req, res) => void res.end('open'));
    const a = await startTestSidecar({ appId: 'open-a', registryDir });
    const b = await startTestSidecar({
      appId: 'open-b',
      appPort: app.port,
      registryDir,
      resourcesPaths: [emptyResources],
    });
    try {
      const res = await raw(a, '/v1.0/invoke/open-b/method/anything/at/all', { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(res.text).toBe('open');
      const self = await raw(b, '/v1.0/invoke/open-b/method/self');
      expect(self.text).toBe('open');
      expect(app.requests.at(-1)?.headers['dapr-caller-app-id']).toBe('open-b');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await app.close();
      removeDir(registryDir);
      removeDir(emptyResources);
    }
  });
});
