/**
 * A replica's app SIGKILLed while calls are on their way to it (issue 12, chaos R2's gap): a call
 * its app never read moves on to the other replica; a call its app read is never sent again.
 *
 * The app is a real process. SIGSTOP holds it where a loaded or dying process is — the kernel
 * completes the handshake and queues the request, the app does not read it — and the kernel's own
 * view (/proc/net/tcp: accept backlog, unread bytes) says when the call sits there. Then SIGKILL.
 * On Linux a socket closed with unread data, or a connection never accepted, is answered with a
 * reset (RST); a socket whose data was all read is closed with a FIN.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSidecar } from '../src';
import { eventually, raw, removeDir, startTestApp, startTestSidecar, tempDir, type TestApp } from './helpers';

const APP_ID = 'kill-callee';

/** The replica's app: logs each request it has read, answers `ok from <pod>`, never answers /hold/. */
const APP_SOURCE = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  process.stdout.write('read ' + req.method + ' ' + req.url + '\\n');
  req.resume();
  req.on('end', () => {
    if (req.url.startsWith('/hold/')) return;
    if (process.env.KEEP_ALIVE !== '1') res.setHeader('connection', 'close');
    res.end('ok from ' + process.env.POD);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
`;

interface AppProcess {
  child: ChildProcess;
  port: number;
  /** the lines it wrote: `read <method> <url>` for every request it read */
  lines: string[];
}

async function startAppProcess(pod: string, keepAlive: boolean): Promise<AppProcess> {
  const child = spawn(process.execPath, ['-e', APP_SOURCE], {
    env: { PATH: process.env.PATH, POD: pod, KEEP_ALIVE: keepAlive ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  let port = 0;
  await eventually(() => {
    const line = lines.find((l) => l.startsWith('port '));
    if (line) port = Number(line.slice(5));
    return port > 0;
  });
  return { child, port, lines };
}

interface TcpEntry {
  localPort: number;
  state: string;
  rxQueue: number;
}

/** The kernel's IPv4 TCP sockets: for a listener rx_queue is its accept backlog, otherwise the unread bytes. */
function tcpSockets(): TcpEntry[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 4)
    .map((f) => ({
      localPort: parseInt(f[1]?.split(':')[1] ?? '0', 16),
      state: f[3] ?? '',
      rxQueue: parseInt(f[4]?.split(':')[1] ?? '0', 16),
    }));
}
const LISTEN = '0A';
const ESTABLISHED = '01';

/** Connections to `port` that hold unread request bytes, and how many wait to be accepted. */
function waitingAt(port: number): { unread: number; backlog: number } {
  const mine = tcpSockets().filter((e) => e.localPort === port);
  return {
    unread: mine.filter((e) => e.state === ESTABLISHED && e.rxQueue > 0).length,
    backlog: mine.find((e) => e.state === LISTEN)?.rxQueue ?? 0,
  };
}

function killAndReap(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

/** A sidecar in a process of its own (as the launcher runs it), for a replica lost whole. */
async function startSidecarProcess(appPort: number, registryDir: string, pod: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@quizmesh/source',
      '--import',
      require.resolve('tsx'),
      join(__dirname, '..', 'src', 'cli.ts'),
      `--app-id=${APP_ID}`,
      `--app-port=${appPort}`,
      '--dapr-http-port=0',
      '--log-level=error',
    ],
    { env: { PATH: process.env.PATH, QUIZMESH_SIDECAR_REGISTRY: registryDir, POD_NAME: pod }, stdio: 'inherit' },
  );
  return child;
}

describe('a replica whose app is SIGKILLed while calls are on their way to it', () => {
  const registryDir = tempDir('reg');
  let caller: RunningSidecar;
  let survivor: TestApp;
  let survivorSidecar: RunningSidecar;
  const cleanups: Array<() => Promise<void>> = [];

  const call = (path: string, method = 'POST') =>
    raw(caller, `/v1.0/invoke/${APP_ID}/method/${path}`, { method, body: method === 'POST' ? '{"n":1}' : undefined });
  const survivorGot = (url: string) => survivor.requests.filter((r) => r.url === url).length;

  /** Starts replica 1 (a real app process and its sidecar) and leaves the caller's round robin pointing at it. */
  async function doomedReplica(keepAlive: boolean): Promise<AppProcess> {
    const app = await startAppProcess(`${APP_ID}-1`, keepAlive);
    const sidecar = await startTestSidecar({
      appId: APP_ID,
      appPort: app.port,
      registryDir,
      env: { POD_NAME: `${APP_ID}-1` },
    });
    await sidecar.ready;
    cleanups.push(async () => {
      if (app.child.exitCode === null && app.child.signalCode === null) await killAndReap(app.child);
      await sidecar.close();
    });
    // Round robin alternates between the two: once replica 1 answered, the one after next goes to it.
    await eventually(async () => (await call('warm-up', 'GET')).text === `ok from ${APP_ID}-1`);
    expect((await call('warm-up', 'GET')).text).toBe(`ok from ${APP_ID}-0`);
    return app;
  }

  beforeAll(async () => {
    survivor = await startTestApp((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`ok from ${APP_ID}-0`);
    });
    survivorSidecar = await startTestSidecar({
      appId: APP_ID,
      appPort: survivor.port,
      registryDir,
      env: { POD_NAME: `${APP_ID}-0` },
    });
    caller = await startTestSidecar({ appId: 'kill-caller', registryDir });
    await Promise.all([survivorSidecar.ready, caller.ready]);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  afterAll(async () => {
    await Promise.all([caller, survivorSidecar].map((s) => s.close()));
    await survivor.close();
    removeDir(registryDir);
  });

  it('moves a call on a new connection the app never accepted to the other replica', async () => {
    const app = await doomedReplica(false);
    app.child.kill('SIGSTOP');
    const pending = call('work/never-accepted');
    await eventually(() => {
      const w = waitingAt(app.port);
      return w.backlog > 0 && w.unread > 0;
    });
    await killAndReap(app.child);

    const res = await pending;
    expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: `ok from ${APP_ID}-0` });
    expect(survivorGot('/work/never-accepted')).toBe(1);
    expect(app.lines).not.toContain('read POST /work/never-accepted');
  });

  it('moves a call written on a pooled connection the app had not read to the other replica', async () => {
    const app = await doomedReplica(true);
    app.child.kill('SIGSTOP');
    const pending = call('work/unread');
    await eventually(() => {
      const w = waitingAt(app.port);
      return w.backlog === 0 && w.unread > 0;
    });
    await killAndReap(app.child);

    const res = await pending;
    expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: `ok from ${APP_ID}-0` });
    expect(survivorGot('/work/unread')).toBe(1);
  });

  it('never sends a call the app had read to the other replica, on a pooled connection or a new one', async () => {
    for (const keepAlive of [true, false]) {
      const app = await doomedReplica(keepAlive);
      const url = `/hold/${keepAlive ? 'pooled' : 'new'}`;
      const pending = call(url.slice(1));
      await eventually(() => app.lines.includes(`read POST ${url}`));
      await killAndReap(app.child);

      const res = await pending;
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text)).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
      expect(survivorGot(url)).toBe(0);
      for (const cleanup of cleanups.splice(0)) await cleanup();
    }
  });

  it('keeps a call whose connection a live app reset itself (it read the call)', async () => {
    const app = await startTestApp((req, res) => {
      if (req.url.startsWith('/reset/')) res.socket?.resetAndDestroy();
      else res.end(`ok from ${APP_ID}-1`);
    });
    const sidecar = await startTestSidecar({
      appId: APP_ID,
      appPort: app.port,
      registryDir,
      env: { POD_NAME: `${APP_ID}-1` },
    });
    cleanups.push(async () => {
      await sidecar.close();
      await app.close();
    });
    await sidecar.ready;
    await eventually(async () => (await call('warm-up', 'GET')).text === `ok from ${APP_ID}-1`);
    expect((await call('warm-up', 'GET')).text).toBe(`ok from ${APP_ID}-0`);

    const res = await call('reset/by-app');
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/ECONNRESET/);
    expect(app.requests.filter((r) => r.url === '/reset/by-app')).toHaveLength(1);
    expect(survivorGot('/reset/by-app')).toBe(0);
  });

  it("moves a call a lost pod's sidecar never read to the other replica, and keeps one it read", async () => {
    const held: Array<() => void> = [];
    const app = await startTestApp((req, res) => {
      if (req.url.startsWith('/hold/')) held.push(() => res.end());
      else if (req.url === '/dapr/subscribe') res.end('[]');
      else res.end(`ok from ${APP_ID}-1`);
    });
    const sidecar = await startSidecarProcess(app.port, registryDir, `${APP_ID}-1`);
    // A caller of its own: no pooled connection to the doomed sidecar, and round robin starts at replica 0.
    const freshCaller = await startTestSidecar({ appId: 'kill-caller-2', registryDir });
    cleanups.push(async () => {
      if (sidecar.exitCode === null && sidecar.signalCode === null) await killAndReap(sidecar);
      for (const release of held) release();
      await freshCaller.close();
      await app.close();
    });
    await freshCaller.ready;
    let port = 0;
    const entry = join(registryDir, `${APP_ID}@${APP_ID}-1.json`);
    await eventually(async () => {
      try {
        port = (JSON.parse(readFileSync(entry, 'utf8')) as { httpPort: number }).httpPort;
        return (await fetch(`http://127.0.0.1:${port}/v1.0/healthz`)).status === 204;
      } catch {
        return false;
      }
    }, 60_000);
    const invoke = (path: string) =>
      raw(freshCaller, `/v1.0/invoke/${APP_ID}/method/${path}`, { method: 'POST', body: '{"n":1}' });
    expect((await invoke('work/first')).text).toBe(`ok from ${APP_ID}-0`);

    // Read by the sidecar and handed to its app, then the pod is lost: not sent again.
    const read = invoke('hold/pod');
    await eventually(() => app.requests.some((r) => r.url === '/hold/pod'));
    expect((await invoke('work/second')).text).toBe(`ok from ${APP_ID}-0`);

    // Never read by the sidecar (its process held, the call queued in the kernel), then lost.
    sidecar.kill('SIGSTOP');
    const unread = invoke('work/pod-unread');
    await eventually(() => waitingAt(port).unread > 0);
    await killAndReap(sidecar);

    const [readRes, unreadRes] = await Promise.all([read, unread]);
    expect(readRes.status).toBe(500);
    expect(survivorGot('/hold/pod')).toBe(0);
    expect({ status: unreadRes.status, text: unreadRes.text }).toEqual({ status: 200, text: `ok from ${APP_ID}-0` });
    expect(survivorGot('/work/pod-unread')).toBe(1);
    expect(app.requests.filter((r) => r.url === '/work/pod-unread')).toHaveLength(0);
  }, 120_000);
});
