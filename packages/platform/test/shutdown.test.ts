import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createHttpApp, createLogger, GracefulShutdown, listen } from '../src';

function get(
  port: number,
  path: string,
  agent?: http.Agent,
): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
  });
}

async function startApp(timeoutMs: number) {
  const logger = createLogger({ service: 'shutdown-test', level: 'silent' });
  const exits: number[] = [];
  const closed: string[] = [];
  const shutdown = new GracefulShutdown({ logger, timeoutMs, exit: (code) => exits.push(code) });
  let releaseSlow: () => void = () => undefined;
  const slowStarted = new Promise<void>((started) => {
    const app = createHttpApp({
      service: 'shutdown-test',
      logger,
      shutdown,
      routes: (a) => {
        a.get('/slow', async (_req, res) => {
          started();
          await new Promise<void>((r) => (releaseSlow = r));
          res.json({ done: true });
        });
        a.get('/fast', (_req, res) => {
          res.json({ fast: true });
        });
      },
    });
    void listen(app, 0, '127.0.0.1').then((server) => {
      shutdown.addServer(server);
      shutdown.onShutdown('database', () => void closed.push('database'));
      shutdown.onShutdown('consumers', () => void closed.push('consumers'));
      appReady(server);
    });
  });
  let appReady: (s: http.Server) => void = () => undefined;
  const server = await new Promise<http.Server>((r) => (appReady = r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    shutdown,
    exits,
    closed,
    slowStarted,
    release: () => releaseSlow(),
  };
}

describe('graceful shutdown', () => {
  it('finishes the in-flight request, refuses new ones, closes resources in reverse order, exits 0', async () => {
    const { port, shutdown, exits, closed, slowStarted, release } = await startApp(5_000);
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // Open a kept-alive connection before the drain starts.
    expect((await get(port, '/fast', keepAlive)).status).toBe(200);

    const inFlight = get(port, '/slow');
    await slowStarted;
    const done = shutdown.shutdown();
    expect(shutdown.draining).toBe(true);

    // New connections are refused once the listener is closed.
    await expect(get(port, '/fast')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The resources are not closed while a request is still running.
    expect(closed).toEqual([]);

    release();
    const slow = await inFlight;
    expect(slow).toMatchObject({ status: 200, body: '{"done":true}' });
    expect(await done).toBe(0);
    expect(exits).toEqual([0]);
    expect(closed).toEqual(['consumers', 'database']);
    keepAlive.destroy();
  });

  it('answers 503 problem+json with Connection: close to requests that reach it while draining', async () => {
    const logger = createLogger({ service: 't', level: 'silent' });
    const shutdown = new GracefulShutdown({ logger, timeoutMs: 1_000, exit: () => undefined });
    const app = createHttpApp({
      service: 't',
      logger,
      shutdown,
      routes: (a) => a.get('/fast', (_q, r) => void r.json({})),
    });
    expect((await request(app).get('/fast')).status).toBe(200);
    await shutdown.shutdown();
    const res = await request(app).get('/fast');
    expect(res.status).toBe(503);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    // Readiness reports not-ready so load balancers stop routing here.
    expect((await request(app).get('/readyz')).status).toBe(503);
  });

  it('exits 1 when the deadline passes with a request still running', async () => {
    const { port, shutdown, exits, slowStarted, release } = await startApp(200);
    const inFlight = get(port, '/slow').catch(() => undefined);
    await slowStarted;
    expect(await shutdown.shutdown()).toBe(1);
    expect(exits).toEqual([1]);
    release();
    await inFlight;
  });
});
