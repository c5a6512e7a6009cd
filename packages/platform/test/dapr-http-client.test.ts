/**
 * The platform's Dapr client is the SDK's HTTP client without the rest of the SDK (decision 1010).
 * Jest's module registry does not go through Node's loader, so what a service process loads is
 * checked in a child process run as services run (plain Node), against a stand-in sidecar.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface ChildReport {
  value: unknown;
  published: boolean;
  sdkModules: number;
  heavyModules: string[];
}

/** Runs the platform's client in a child: one state read and one publish, then what it loaded. */
function runChild(port: number, env: Record<string, string> = {}): Promise<ChildReport> {
  const script = `
    const { Dapr } = require('@quizmesh/platform');
    (async () => {
      const dapr = new Dapr({ host: '127.0.0.1', httpPort: ${port}, apiToken: 'sidecar-token' });
      const value = await dapr.getState('statestore', 'greeting');
      await dapr.publish('pubsub', 'quiz.completed', { id: 1 });
      await dapr.close();
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        value,
        published: true,
        sdkModules: loaded.filter((f) => f.includes('@dapr/dapr')).length,
        heavyModules: loaded.filter((f) => /@grpc|@dapr\\/dapr\\/(workflow|proto|actors)|@js-temporal|GRPCClient/.test(f)),
      }));
    })().catch((err) => { console.error(err); process.exit(1); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@quizmesh/source', '--import', 'tsx', '-e', script], {
      cwd: __dirname,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as ChildReport);
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

describe('the Dapr client of a service process', () => {
  let server: Server;
  let port: number;
  let requests: Array<{ method: string; url: string; token: string | undefined; body: string }>;
  let metadataFailures: number;

  beforeEach(async () => {
    requests = [];
    metadataFailures = 0;
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const token = req.headers['dapr-api-token'] as string | undefined;
        requests.push({ method: req.method ?? '', url: req.url ?? '', token, body });
        if (req.url === '/v1.0/metadata') {
          if (metadataFailures > 0) {
            metadataFailures -= 1;
            res.writeHead(500).end();
          } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"quiz"}');
        } else if (req.url?.startsWith('/v1.0/state/statestore/greeting')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}');
        } else if (req.method === 'POST' && req.url?.startsWith('/v1.0/publish/pubsub/quiz.completed')) {
          res.writeHead(204).end();
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('talks to its sidecar through the SDK without loading its gRPC, workflow or actor modules', async () => {
    const report = await runChild(port);
    expect(report.value).toEqual({ hello: 'world' });
    expect(report.heavyModules).toEqual([]);
    // the SDK's HTTP client did the calls: the few dozen modules of its HTTP path, not the 574 of its root
    expect(report.sdkModules).toBeGreaterThan(5);
    expect(report.sdkModules).toBeLessThan(60);
    // as DaprClient over HTTP: the sidecar is asked once whether it is up, then every call carries the token
    expect(requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'GET /v1.0/metadata',
      'GET /v1.0/state/statestore/greeting',
      'POST /v1.0/publish/pubsub/quiz.completed',
    ]);
    expect(requests.every((r) => r.token === 'sidecar-token')).toBe(true);
    expect(JSON.parse(requests[2]?.body ?? '')).toEqual({ id: 1 });
  }, 30_000);

  it('waits for a sidecar that is not up yet the way the SDK does (its own polling)', async () => {
    metadataFailures = 2;
    const report = await runChild(port);
    expect(report.value).toEqual({ hello: 'world' });
    expect(requests.filter((r) => r.url === '/v1.0/metadata')).toHaveLength(3);
    // only then the whole SDK is loaded, for DaprClient.awaitSidecarStarted
    expect(report.heavyModules.length).toBeGreaterThan(0);
  }, 30_000);

  it('relies on HTTPClient.js using the package root only to await the sidecar (re-check on an SDK upgrade)', () => {
    const source = readFileSync(require.resolve('@dapr/dapr/implementation/Client/HTTPClient/HTTPClient'), 'utf8');
    expect(source.match(/require\("\.\.\/\.\.\/\.\."\)/g)).toHaveLength(1);
    expect(source.match(/__1\.[A-Za-z.]+/g)).toEqual(['__1.DaprClient.awaitSidecarStarted']);
  });
});
