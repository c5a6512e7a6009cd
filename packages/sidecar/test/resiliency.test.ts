/** Resiliency observed through service invocation against a flaky app (real sidecars and HTTP). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSidecar } from '../src';
import { raw, removeDir, resourcesDir, startTestApp, startTestSidecar, tempDir, type TestApp } from './helpers';

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: flaky}
spec:
  policies:
    timeouts:
      quick: 300ms
    retries:
      threeQuick: {policy: constant, duration: 10ms, maxRetries: 3}
      onlyUnavailable: {policy: constant, duration: 10ms, maxRetries: 5, matching: {httpStatusCodes: "503"}}
    circuitBreakers:
      fragile: {maxRequests: 1, interval: 0s, timeout: 60s, trip: consecutiveFailures > 2}
  targets:
    apps:
      res-retry: {retry: threeQuick}
      res-matching: {retry: onlyUnavailable}
      res-timeout: {timeout: quick}
      res-breaker: {circuitBreaker: fragile}
      res-acl: {circuitBreaker: fragile}
`;

/** res-acl lets res-caller call `/open/*` only. */
const ACL_CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: aclconfig}
spec:
  accessControl:
    defaultAction: deny
    policies:
    - appId: res-caller
      defaultAction: deny
      operations:
      - {name: /open/*, httpVerb: ['*'], action: allow}
`;

describe('resiliency policies on service invocation', () => {
  const registryDir = tempDir('reg');
  const resources = resourcesDir({ 'resiliency.yaml': RESILIENCY });
  let app: TestApp;
  const callees: RunningSidecar[] = [];
  let caller: RunningSidecar;
  const failuresLeft = new Map<string, number>();

  beforeAll(async () => {
    // `/flaky/<id>/<n>` fails with 503 n times, then answers 200; `/slow` takes 0.8 s; `/bad` is always 400; `/down` always 500.
    app = await startTestApp(async (req, res) => {
      const [, kind, id = '', n = '0'] = req.url.split('/');
      if (kind === 'flaky') {
        const left = failuresLeft.get(id) ?? Number(n);
        failuresLeft.set(id, left - 1);
        res.statusCode = left > 0 ? 503 : 200;
        res.end(left > 0 ? 'not yet' : 'finally');
      } else if (kind === 'slow') {
        await new Promise((r) => setTimeout(r, 800));
        res.end('late');
      } else if (kind === 'open') {
        res.statusCode = 404;
        res.end('no such thing');
      } else if (kind === 'bad') {
        res.statusCode = 400;
        res.end('bad request');
      } else {
        res.statusCode = 500;
        res.end('down');
      }
    });
    caller = await startTestSidecar({ appId: 'res-caller', registryDir, resourcesPaths: [resources] });
    for (const id of ['res-retry', 'res-matching', 'res-timeout', 'res-breaker']) {
      callees.push(await startTestSidecar({ appId: id, appPort: app.port, registryDir }));
    }
    const configPath = join(resources, '..', `acl-${process.pid}.yaml`);
    writeFileSync(configPath, ACL_CONFIG);
    callees.push(await startTestSidecar({ appId: 'res-acl', appPort: app.port, registryDir, configPath }));
  });

  afterAll(async () => {
    await Promise.all([caller.close(), ...callees.map((c) => c.close())]);
    await app.close();
    removeDir(registryDir);
    removeDir(resources);
  });

  const hits = (prefix: string): number => app.requests.filter((r) => r.url.startsWith(prefix)).length;

  it('retries failing calls and returns the eventual success', async () => {
    const res = await raw(caller, '/v1.0/invoke/res-retry/method/flaky/a/2');
    expect(res.status).toBe(200);
    expect(res.text).toBe('finally');
    expect(hits('/flaky/a/')).toBe(3);
  });

  it('gives up after maxRetries and passes the last failure through', async () => {
    const res = await raw(caller, '/v1.0/invoke/res-retry/method/flaky/b/10');
    expect(res.status).toBe(503);
    expect(res.text).toBe('not yet');
    expect(hits('/flaky/b/')).toBe(4);
  });

  it('retries only the status codes listed in matching.httpStatusCodes', async () => {
    expect((await raw(caller, '/v1.0/invoke/res-matching/method/flaky/c/2')).status).toBe(200);
    expect(hits('/flaky/c/')).toBe(3);
    const bad = await raw(caller, '/v1.0/invoke/res-matching/method/bad');
    expect(bad.status).toBe(400);
    expect(hits('/bad')).toBe(1);
  });

  it('answers 500 ERR_DIRECT_INVOKE when the timeout expires', async () => {
    const res = await raw(caller, '/v1.0/invoke/res-timeout/method/slow');
    expect(res.status).toBe(500);
    const body = JSON.parse(res.text) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain('timeout');
  });

  it('opens the circuit after consecutive failures and stops calling the app', async () => {
    for (let i = 0; i < 3; i++) expect((await raw(caller, '/v1.0/invoke/res-breaker/method/down')).status).toBe(500);
    expect(hits('/down')).toBe(3);
    const rejected = await raw(caller, '/v1.0/invoke/res-breaker/method/down');
    expect(rejected.status).toBe(500);
    expect(JSON.parse(rejected.text)).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
    expect(JSON.parse(rejected.text).message).toContain('circuit breaker');
    expect(hits('/down')).toBe(3);
  });

  it('keeps one breaker per endpoint (app:method), as daprd: an open /down leaves /flaky reachable', async () => {
    // Runs after the test above opened res-breaker:down.
    expect((await raw(caller, '/v1.0/invoke/res-breaker/method/down')).status).toBe(500);
    const other = await raw(caller, '/v1.0/invoke/res-breaker/method/flaky/e/0');
    expect(other.status).toBe(200);
    expect(hits('/flaky/e/')).toBe(1);
  });

  it('counts 4xx answers and access-control denials as breaker failures, as daprd', async () => {
    for (let i = 0; i < 3; i++) expect((await raw(caller, '/v1.0/invoke/res-acl/method/open/bad')).status).toBe(404);
    const afterNotFound = await raw(caller, '/v1.0/invoke/res-acl/method/open/bad');
    expect(JSON.parse(afterNotFound.text).message).toContain('circuit breaker');

    for (let i = 0; i < 3; i++) {
      const denied = await raw(caller, '/v1.0/invoke/res-acl/method/closed');
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.text).message).toContain('access control policy has denied access');
    }
    const afterDenials = await raw(caller, '/v1.0/invoke/res-acl/method/closed');
    expect(afterDenials.status).toBe(500);
    expect(JSON.parse(afterDenials.text).message).toContain('circuit breaker');
  });

  it('leaves apps without a policy alone: one attempt', async () => {
    const plain = await startTestSidecar({ appId: 'res-plain', appPort: app.port, registryDir });
    try {
      expect((await raw(caller, '/v1.0/invoke/res-plain/method/flaky/d/1')).status).toBe(503);
      expect(hits('/flaky/d/')).toBe(1);
    } finally {
      await plain.close();
    }
  });
});
