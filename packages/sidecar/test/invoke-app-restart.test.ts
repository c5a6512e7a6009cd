/**
 * Chaos R1's 503 (a leaderboard read moments after evaluation's app was SIGKILLed and restarted):
 * the app answers again, but its sidecar still holds it unhealthy until its next probe passes (up
 * to a probe interval later, longer while a cold app on a busy machine misses the probe timeout),
 * and refuses calls meanwhile ("app is not in a healthy state", as daprd does). daprd's callee
 * answers that refusal with a gRPC error, not an app status, so the caller's retry policy retries
 * it whatever `matching` says (dapr v1.16 `pkg/api/http/directmessaging.go` `onDirectMessage`,
 * `pkg/resiliency/policy.go`: only a `CodeError` is filtered by status). The local caller took it
 * for the app's own 500 and gave up at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SidecarRegistry, type RunningSidecar } from '../src';
import { eventually, raw, removeDir, resourcesDir, startTestSidecar, tempDir } from './helpers';

const APP_ID = 'evaluation';

// Retries only 502/503 answers: the refusal is retried as an error, not because of its status.
// Constant back-off, so the budget (3 s) surely spans the callee's next probe (1 s interval).
const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: restart}
spec:
  policies:
    retries:
      invoke: {policy: constant, duration: 250ms, maxRetries: 12, matching: {httpStatusCodes: "502,503"}}
  targets:
    apps:
      ${APP_ID}: {retry: invoke}
`;

/** The app: /healthz 200, everything else `read <url>`; it can stop and listen again on the same port. */
class RestartableApp {
  readonly reads: string[] = [];
  private server: http.Server | undefined;
  port = 0;

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/healthz') this.reads.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ read: req.url }));
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

describe('a call to an app its sidecar still holds unhealthy after a restart', () => {
  const registryDir = tempDir('reg');
  const resources = resourcesDir({ 'resiliency.yaml': RESILIENCY });
  const app = new RestartableApp();
  let callee: RunningSidecar;
  let caller: RunningSidecar;

  const appHealthy = () => new SidecarRegistry(registryDir).resolveAll(APP_ID, true)[0]?.appHealthy;
  const read = (path: string) => raw(caller, `/v1.0/invoke/${APP_ID}/method/${path}`);

  beforeAll(async () => {
    await app.listen();
    callee = await startTestSidecar({
      appId: APP_ID,
      appPort: app.port,
      registryDir,
      // The launcher's and the chart's probe settings.
      appHealthCheck: { path: '/healthz', intervalMs: 1000, timeoutMs: 500, threshold: 2 },
    });
    caller = await startTestSidecar({ appId: 'gateway', registryDir, resourcesPaths: [resources] });
    await Promise.all([callee.ready, caller.ready]);
  });

  afterAll(async () => {
    await Promise.all([caller?.close(), callee?.close()]);
    await app.stop();
    removeDir(registryDir);
    removeDir(resources);
  });

  it('is retried under the caller’s policy and reaches the app once, when a probe has passed', async () => {
    expect((await read('warm-up')).status).toBe(200);
    await app.stop();
    await eventually(() => appHealthy() === false, 20_000);

    await app.listen();
    const res = await read('leaderboards/quiz/1');
    expect({ status: res.status, body: res.text }).toEqual({ status: 200, body: '{"read":"/leaderboards/quiz/1"}' });
    expect(app.reads.filter((r) => r === 'GET /leaderboards/quiz/1')).toHaveLength(1);
  }, 60_000);

  it('answers the callee’s refusal once the retries are spent, and the app never sees the call', async () => {
    await app.stop();
    await eventually(() => appHealthy() === false, 20_000);
    try {
      const res = await read('leaderboards/quiz/2');
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text)).toEqual({
        errorCode: 'ERR_DIRECT_INVOKE',
        message: `failed to invoke, id: ${APP_ID}, err: app is not in a healthy state`,
      });
      expect(app.reads).not.toContain('GET /leaderboards/quiz/2');
    } finally {
      await app.listen();
    }
  }, 60_000);
});
