/**
 * Several instances of one app id (replicas, each with its own sidecar and POD_NAME): the
 * caller's sidecar spreads calls over the live instances, skips one whose app or sidecar is
 * gone without failing the call, never re-sends a call an app has answered, and picks a
 * restarted instance up again.
 */
import type { RunningSidecar } from '../src';
import { eventually, raw, removeDir, startTestApp, startTestSidecar, tempDir, type TestApp } from './helpers';

const APP_ID = 'rep-callee';

describe('service invocation across replicas of one app id', () => {
  const registryDir = tempDir('reg');
  const apps: TestApp[] = [];
  const sidecars: RunningSidecar[] = [];
  let caller: RunningSidecar;

  const replica = async (pod: string, handler = 'ok'): Promise<[TestApp, RunningSidecar]> => {
    const app = await startTestApp((req, res) => {
      res.writeHead(req.url.startsWith('/fail') ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(`${handler} from ${pod}`);
    });
    const sidecar = await startTestSidecar({ appId: APP_ID, appPort: app.port, registryDir, env: { POD_NAME: pod } });
    await sidecar.ready;
    apps.push(app);
    sidecars.push(sidecar);
    return [app, sidecar];
  };
  /** the calls an app received under `prefix` (the sidecar also asks it for /dapr/subscribe) */
  const received = (app: TestApp, prefix: string) => app.requests.filter((r) => r.url.startsWith(prefix)).length;
  const call = (path: string) => raw(caller, `/v1.0/invoke/${APP_ID}/method/${path}`);

  beforeAll(async () => {
    caller = await startTestSidecar({ appId: 'rep-caller', registryDir });
  });
  afterAll(async () => {
    await Promise.all([caller, ...sidecars].map((s) => s.close()));
    await Promise.all(apps.map((a) => a.close()));
    removeDir(registryDir);
  });

  it('spreads calls over two replicas, skips one that is down, and takes a restarted one back', async () => {
    const [first] = await replica(`${APP_ID}-0`);
    const [second, secondSidecar] = await replica(`${APP_ID}-1`);

    const bodies: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await call(`hello/${i}`);
      expect(res.status).toBe(200);
      bodies.push(res.text);
    }
    // Round robin: each replica gets every other call.
    expect(received(first, '/hello/')).toBe(5);
    expect(received(second, '/hello/')).toBe(5);
    expect(new Set(bodies)).toEqual(new Set([`ok from ${APP_ID}-0`, `ok from ${APP_ID}-1`]));

    // The second replica's app dies (its sidecar stays): every call still succeeds, on the first.
    await second.close();
    for (let i = 0; i < 10; i += 1) expect((await call(`app-down/${i}`)).status).toBe(200);
    expect(received(first, '/app-down/')).toBe(10);

    // Then its sidecar goes too (the whole pod): still every call succeeds.
    await secondSidecar.close();
    for (let i = 0; i < 10; i += 1) expect((await call(`pod-down/${i}`)).status).toBe(200);
    expect(received(first, '/pod-down/')).toBe(10);

    // The replica comes back under the same pod name: calls reach it again.
    const [back] = await replica(`${APP_ID}-1`, 'back');
    await eventually(async () => (await call('rejoin')).text === `back from ${APP_ID}-1`, 10_000);
    for (let i = 0; i < 10; i += 1) expect((await call(`spread-again/${i}`)).status).toBe(200);
    expect(received(first, '/spread-again/')).toBe(5);
    expect(received(back, '/spread-again/')).toBe(5);
  });

  it('does not send a call on to another replica once an app has answered it, even with a 500', async () => {
    const res = await call('fail/once');
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^(ok|back) from /);
    expect(apps.reduce((n, a) => n + received(a, '/fail/once'), 0)).toBe(1);
  });

  it('still refuses a second sidecar for the same instance of an app id', async () => {
    await expect(startTestSidecar({ appId: APP_ID, registryDir, env: { POD_NAME: `${APP_ID}-0` } })).rejects.toThrow(
      /already registered by a running sidecar/,
    );
    await expect(startTestSidecar({ appId: 'rep-caller', registryDir })).rejects.toThrow(
      /app id "rep-caller" is already registered by a running sidecar/,
    );
  });
});
