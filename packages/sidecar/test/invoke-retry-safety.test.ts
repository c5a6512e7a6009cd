/**
 * When does an invocation run twice? daprd v1.16.2 (pkg/resiliency/policy.go) retries every
 * error that is not an answer of the app (a timeout, a refused or reset connection) whatever
 * `matching` says; `matching` filters answers only. So a policy with an invoke timeout re-runs
 * a slow POST the callee is still executing (issue 12: replay-all ran twice). The repository's
 * policy therefore has no invoke timeout on app targets, and a caller that gives up cancels the
 * call, which ends the retries (docs/decisions/0780).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSidecar } from '../src';
import { raw, removeDir, resourcesDir, startTestApp, startTestSidecar, tempDir, type TestApp } from './helpers';

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: safety}
spec:
  policies:
    timeouts:
      quick: 200ms
    retries:
      onlyUnavailable: {policy: constant, duration: 300ms, maxRetries: 3, matching: {httpStatusCodes: "502,503"}}
  targets:
    apps:
      safety-timeout: {timeout: quick, retry: onlyUnavailable}
      safety-no-timeout: {retry: onlyUnavailable}
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('invocation retries and non-idempotent calls', () => {
  const registryDir = tempDir('reg');
  const resources = resourcesDir({ 'resiliency.yaml': RESILIENCY });
  // The repository's own policy, as every local run loads it (its targets name the real app ids).
  const repositoryPolicy = tempDir('repo-res');
  copyFileSync(
    join(__dirname, '../../../components/common/resiliency.yaml'),
    join(repositoryPolicy, 'resiliency.yaml'),
  );
  let app: TestApp;
  const sidecars: RunningSidecar[] = [];
  let caller: RunningSidecar;
  let gateway: RunningSidecar;

  beforeAll(async () => {
    app = await startTestApp(async (req, res) => {
      const [, kind, ms = '0'] = req.url.split('/');
      await sleep(Number(ms));
      res.writeHead(kind === 'unavailable' ? 503 : 200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    for (const appId of ['safety-timeout', 'safety-no-timeout', 'quiz']) {
      sidecars.push(await startTestSidecar({ appId, appPort: app.port, registryDir }));
    }
    caller = await startTestSidecar({ appId: 'safety-caller', registryDir, resourcesPaths: [resources] });
    gateway = await startTestSidecar({ appId: 'gateway', registryDir, resourcesPaths: [repositoryPolicy] });
    await Promise.all([...sidecars, caller, gateway].map((s) => s.ready));
  });

  afterAll(async () => {
    for (const s of [caller, gateway, ...sidecars]) await s?.close();
    await app?.close();
    removeDir(registryDir);
    removeDir(resources);
    removeDir(repositoryPolicy);
  });

  beforeEach(() => {
    app.requests.splice(0);
  });

  it('retries a timed-out POST even with matching limited to 502/503, as daprd does', async () => {
    const res = await raw(caller, '/v1.0/invoke/safety-timeout/method/slow/500', { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    await sleep(600); // the last attempt's request is still with the app
    // The app was asked four times to do the same thing: why a policy with a timeout is unsafe.
    expect(app.requests.filter((r) => r.url === '/slow/500')).toHaveLength(4);
  });

  it("runs a POST slower than the old 5 s invoke timeout once under the repository's policy", async () => {
    const res = await raw(gateway, '/v1.0/invoke/quiz/method/slow/5500', { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(app.requests.filter((r) => r.url === '/slow/5500')).toHaveLength(1);
  }, 20_000);

  it('still retries a 503 (the callee did not act) under the same policy', async () => {
    const res = await raw(caller, '/v1.0/invoke/safety-no-timeout/method/unavailable/0', { method: 'POST' });
    expect(res.status).toBe(503);
    expect(app.requests.filter((r) => r.url === '/unavailable/0')).toHaveLength(4);
  });

  it('stops retrying when the caller goes away (its request is cancelled, as in daprd)', async () => {
    const abandoned = raw(caller, '/v1.0/invoke/safety-no-timeout/method/unavailable/400', {
      method: 'POST',
      signal: AbortSignal.timeout(200),
    });
    await expect(abandoned).rejects.toThrow();
    // Without cancellation the sidecar would retry the 503 three more times, 300 ms apart.
    await sleep(1_800);
    expect(app.requests.filter((r) => r.url === '/unavailable/400')).toHaveLength(1);
  });
});
