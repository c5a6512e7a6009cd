/**
 * What Node's HTTP server answers by itself (or not at all) must be problem+json wherever a
 * response is possible (issue 11): missing Host, header overflow, non-origin-form targets,
 * CONNECT; and a per-address connection cap answers 429 instead of accepting without bound.
 */
import net, { type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpApp, createLogger, createPlatformServer, listen } from '../src';

function app() {
  return createHttpApp({
    service: 'test',
    logger: createLogger({ service: 'test', level: 'silent' }),
    routes: (a) => a.get('/x', (_req, res) => res.json({ ok: true })),
  });
}

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** Writes `request` as is and reads until the server closes (or `idleMs` passes without data). */
function raw(port: number, request: string, idleMs = 1_000): Promise<RawAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      socket.destroy();
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve(status === 0 ? undefined : { status, headers: head.toLowerCase(), body });
    };
    socket.setTimeout(idleMs, done);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    socket.on('end', done);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done() : reject(err)));
    socket.write(request);
  });
}

function expectProblem(answer: RawAnswer | undefined, status: number) {
  expect(answer?.status).toBe(status);
  expect(answer?.headers).toContain('content-type: application/problem+json');
  expect(JSON.parse(answer?.body ?? '')).toMatchObject({ status });
}

describe('the platform server (services listen with it)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = await listen(app(), 0, '127.0.0.1');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves an ordinary request', async () => {
    const answer = await raw(port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(answer?.status).toBe(200);
  });

  it('answers an HTTP/1.1 request without Host with 400 problem+json', async () => {
    expectProblem(await raw(port, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n'), 400);
  });

  it('answers an absolute-form target with 400 problem+json instead of serving it', async () => {
    expectProblem(
      await raw(port, 'GET http://elsewhere.example/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'),
      400,
    );
  });

  it('answers an asterisk-form target with 400 problem+json', async () => {
    expectProblem(await raw(port, 'OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), 400);
  });

  it('answers CONNECT with 405 problem+json instead of closing silently', async () => {
    expectProblem(await raw(port, 'CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n'), 405);
  });

  it('answers headers over the limit with 431 problem+json', async () => {
    const padding = 'p'.repeat(20_000);
    expectProblem(await raw(port, `GET /x HTTP/1.1\r\nHost: a\r\nX-Padding: ${padding}\r\n\r\n`), 431);
  });

  it('answers a malformed request line with 400 problem+json', async () => {
    expectProblem(await raw(port, 'GET /x HTTP/9.9 what\r\n\r\n'), 400);
  });
});

describe('the per-address connection cap', () => {
  it('answers the connection over the cap with 429 problem+json and serves again once one closes', async () => {
    const server = createPlatformServer(app(), { maxConnectionsPerAddress: 3 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const held = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    try {
      expectProblem(await raw(port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), 429);
      const closed = held.pop();
      await new Promise((resolve) => {
        closed?.once('close', resolve);
        closed?.destroy();
      });
      // The server notices the close asynchronously; give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const answer = await raw(port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      expect(answer?.status).toBe(200);
    } finally {
      for (const s of held) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
