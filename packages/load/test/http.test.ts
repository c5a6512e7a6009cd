/**
 * The client's origin lock and its manners, against real HTTP servers on loopback (no platform):
 * nothing leaves the given origin (paths only, no redirect followed, whatever the Location), and
 * a 429 is waited out per Retry-After, then asked again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayHttp, OffOriginError, retryAfterMs } from '../src/http';
import { LiveStreamClient } from '../src/sse';

interface TestServer {
  url: URL;
  requests: string[];
  close(): Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the origin-locked client', () => {
  let gateway: TestServer;
  let elsewhere: TestServer;
  beforeAll(async () => {
    elsewhere = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    gateway = await serve((req, res) => {
      if (req.url === '/api/v1/away') res.writeHead(302, { location: `${elsewhere.url.origin}/api/v1/away` }).end();
      else if (req.url === '/api/v1/here') res.writeHead(301, { location: '/api/v1/ok' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
  });
  afterAll(async () => {
    await gateway.close();
    await elsewhere.close();
  });

  it('sends paths to the given origin and parses JSON', async () => {
    const http = new GatewayHttp(gateway.url);
    const res = await http.request('GET', '/api/v1/quizzes?limit=1');
    expect(res).toMatchObject({ status: 200, body: { path: '/api/v1/quizzes?limit=1' } });
  });

  it.each([
    `http://127.0.0.1:1/api/v1/quizzes`,
    '//evil.example/api',
    '/\\evil.example/api',
    'api/v1/quizzes',
    'https://evil.example/',
  ])('refuses %s before sending anything', async (target) => {
    const http = new GatewayHttp(gateway.url);
    const before = gateway.requests.length + elsewhere.requests.length;
    await expect(http.request('GET', target)).rejects.toThrow(OffOriginError);
    expect(gateway.requests.length + elsewhere.requests.length).toBe(before);
  });

  it('never follows a redirect: not to another origin, not even to its own', async () => {
    const http = new GatewayHttp(gateway.url);
    await expect(http.request('GET', '/api/v1/away')).rejects.toThrow(
      /refused to follow 302 .* to http:\/\/127\.0\.0\.1/,
    );
    expect(elsewhere.requests).toEqual([]);
    await expect(http.request('GET', '/api/v1/here')).rejects.toThrow(/refused to follow 301/);
    expect(gateway.requests).not.toContain('GET /api/v1/ok');
  });

  it('does not let the stream follow a redirect either', async () => {
    const redirecting = await serve((_req, res) =>
      res.writeHead(307, { location: `${elsewhere.url.origin}/api/v1/stream` }).end(),
    );
    const failures: string[] = [];
    const stream = new LiveStreamClient(new GatewayHttp(redirecting.url), async () => 'token', {
      ready: () => undefined,
      event: () => undefined,
      failed: (_status, detail) => failures.push(detail),
      rateLimited: () => undefined,
    });
    stream.start();
    while (failures.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await stream.close();
    await redirecting.close();
    expect(failures[0]).toMatch(/refused to follow 307/);
    expect(redirecting.requests).toEqual(['GET /api/v1/stream']);
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('429 handling', () => {
  let limited: TestServer;
  let answers: Array<[number, Record<string, string>]>;
  beforeAll(async () => {
    limited = await serve((_req, res) => {
      const [status, headers] = answers.shift() ?? [200, {}];
      res.writeHead(status, { 'content-type': 'application/problem+json', ...headers }).end(JSON.stringify({ status }));
    });
  });
  afterAll(() => limited.close());

  it('waits Retry-After, asks again and reports each 429 to the caller', async () => {
    answers = [
      [429, { 'retry-after': '1' }],
      [429, { 'retry-after': '0' }],
    ];
    const waits: number[] = [];
    const http = new GatewayHttp(limited.url, () => 0);
    const started = Date.now();
    const res = await http.request('GET', '/api/v1/quizzes', {
      retryUntil: Date.now() + 10_000,
      onRateLimited: (ms) => waits.push(ms),
    });
    expect(res.status).toBe(200);
    expect(waits).toEqual([1000, 0]);
    expect(limited.requests.slice(-3)).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('gives the 429 back when waiting would pass the deadline', async () => {
    answers = [[429, { 'retry-after': '3600' }]];
    const http = new GatewayHttp(limited.url, () => 0);
    const before = limited.requests.length;
    const res = await http.request('POST', '/api/v1/auth/register', { body: {}, retryUntil: Date.now() + 5000 });
    expect(res.status).toBe(429);
    expect(limited.requests.length - before).toBe(1);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-06T06:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Sun, 06 Dec 2026 06:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 06 Dec 2026 05:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBe(1000);
    expect(retryAfterMs('soon', now)).toBe(1000);
  });
});
