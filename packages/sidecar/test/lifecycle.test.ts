/** Startup errors, ignoreErrors, API token, health, metadata, unimplemented APIs, shutdown and the CLI. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SidecarStartupError, parseSidecarArgs, type RunningSidecar } from '../src';
import {
  eventually,
  raw,
  removeDir,
  resourcesDir,
  sdkClient,
  startTestApp,
  startTestSidecar,
  tempDir,
} from './helpers';

const component = (name: string, type: string, metadata = '[]', extra = ''): string =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec: {type: ${type}, version: v1, metadata: ${metadata}${extra}}\n`;

describe('startup errors', () => {
  const registryDir = tempDir('reg');
  afterAll(() => removeDir(registryDir));

  async function startupError(files: Record<string, string>): Promise<SidecarStartupError> {
    const dir = resourcesDir(files);
    try {
      const sidecar = await startTestSidecar({ appId: 'broken', registryDir, resourcesPaths: [dir] });
      await sidecar.close();
      throw new Error('the sidecar started');
    } catch (err) {
      if (!(err instanceof SidecarStartupError)) throw err;
      return err;
    } finally {
      removeDir(dir);
    }
  }

  it('names the file, component and field for an unknown component type', async () => {
    const err = await startupError({ 'weird.yaml': component('statestore', 'state.cassandra') });
    expect(err.message).toMatch(
      /weird\.yaml: Component "statestore" \(state\.cassandra\): spec\.type: unknown component type "state\.cassandra"/,
    );
  });

  it('names the missing required metadata field', async () => {
    const err = await startupError({ 'redis.yaml': component('cache', 'state.redis') });
    expect(err.message).toMatch(
      /redis\.yaml: Component "cache" \(state\.redis\): spec\.metadata\[redisHost\]: is required/,
    );
  });

  it('refuses an smtp binding without host and port, as daprd does (contrib bindings/smtp parseMetadata)', async () => {
    const mailOnlyMailbox = component('mail', 'bindings.smtp', '[{name: mailboxPath, value: mailbox}]');
    const err = await startupError({ 'mail.yaml': mailOnlyMailbox });
    expect(err.message).toMatch(/mail\.yaml: Component "mail" \(bindings\.smtp\): spec\.metadata\[host\]: is required/);
    const noPort = component(
      'mail',
      'bindings.smtp',
      '[{name: host, value: "127.0.0.1"}, {name: mailboxPath, value: m}]',
    );
    expect((await startupError({ 'mail.yaml': noPort })).message).toMatch(/spec\.metadata\[port\]: is required/);
  });

  it('refuses {podName} in component metadata when there is no pod name, as daprd (meta.go ToBaseMetadata)', async () => {
    const perPod = component('ps', 'pubsub.in-memory', '[{name: consumerID, value: "{podName}"}]');
    const err = await startupError({ 'ps.yaml': perPod });
    expect(err.message).toMatch(
      /ps\.yaml: Component "ps" \(pubsub\.in-memory\): .*refers to \{podName\} but podName is not set/,
    );
  });

  it('names the file and field when Redis is unreachable', async () => {
    const err = await startupError({
      'redis.yaml': component('cache', 'state.redis', '[{name: redisHost, value: "127.0.0.1:1"}]', ', initTimeout: 2s'),
    });
    expect(err.message).toMatch(
      /redis\.yaml: Component "cache" \(state\.redis\): spec\.metadata\[redisHost\]: cannot connect to Redis at 127\.0\.0\.1:1/,
    );
  });

  it('requires auth.secretStore for secretKeyRef and refuses unknown policies in Resiliency targets', async () => {
    const noStore = await startupError({
      'c.yaml': component('cache', 'state.redis', '[{name: redisHost, secretKeyRef: {name: host}}]'),
    });
    expect(noStore.message).toContain('spec.metadata[redisHost].secretKeyRef: needs auth.secretStore');
    const badPolicy = await startupError({
      'r.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n  policies: {retries: {}}\n  targets: {apps: {quiz: {retry: missing}}}\n',
    });
    expect(badPolicy.message).toMatch(
      /r\.yaml: Resiliency "r": spec\.targets\.apps\.quiz\.retry: unknown retry policy "missing"/,
    );
    const badDuration = await startupError({
      'r.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n  policies: {timeouts: {t: soon}}\n',
    });
    expect(badDuration.message).toContain('spec.policies.timeouts.t: invalid duration "soon"');
  });

  it('skips a failing component with ignoreErrors: true and keeps the others', async () => {
    const dir = resourcesDir({
      'a.yaml': component(
        'cache',
        'state.redis',
        '[{name: redisHost, value: "127.0.0.1:1"}]',
        ', ignoreErrors: true, initTimeout: 1s',
      ),
      'b.yaml':
        component('memory', 'state.in-memory') +
        '---\n' +
        component('exotic', 'state.cassandra', '[]', ', ignoreErrors: true'),
    });
    const sidecar = await startTestSidecar({ appId: 'tolerant', registryDir, resourcesPaths: [dir] });
    try {
      const metadata = JSON.parse((await raw(sidecar, '/v1.0/metadata')).text) as {
        components: Array<{ name: string }>;
      };
      expect(metadata.components.map((c) => c.name)).toEqual(['memory']);
      const missing = await raw(sidecar, '/v1.0/state/cache/k');
      expect(missing.status).toBe(400);
      expect(JSON.parse(missing.text)).toMatchObject({ errorCode: 'ERR_STATE_STORE_NOT_FOUND' });
    } finally {
      await sidecar.close();
      removeDir(dir);
    }
  });

  it('answers 500 ERR_STATE_STORE_NOT_CONFIGURED and ERR_SECRET_STORES_NOT_CONFIGURED without such components', async () => {
    const sidecar = await startTestSidecar({ appId: 'bare', registryDir });
    try {
      expect(JSON.parse((await raw(sidecar, '/v1.0/state/any/k')).text)).toMatchObject({
        errorCode: 'ERR_STATE_STORE_NOT_CONFIGURED',
      });
      expect(JSON.parse((await raw(sidecar, '/v1.0/secrets/any/k')).text)).toMatchObject({
        errorCode: 'ERR_SECRET_STORES_NOT_CONFIGURED',
      });
    } finally {
      await sidecar.close();
    }
  });
});

describe('API surface', () => {
  const registryDir = tempDir('reg');
  let sidecar: RunningSidecar;
  let appPort: number;
  let shutdownRequested = false;

  beforeAll(async () => {
    // Reserve a free port for an app that is not running yet.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    appPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    sidecar = await startTestSidecar({
      appId: 'surface',
      appPort,
      registryDir,
      env: { DAPR_API_TOKEN: 'sidecar-token', APP_API_TOKEN: 'app-token' },
      onShutdownRequest: () => {
        shutdownRequested = true;
      },
    });
  });

  afterAll(async () => {
    await sidecar.close();
    removeDir(registryDir);
  });

  const auth = { headers: { 'dapr-api-token': 'sidecar-token' } };

  it('requires the API token except on healthz (401 plain "invalid api token")', async () => {
    const denied = await raw(sidecar, '/v1.0/metadata');
    expect(denied.status).toBe(401);
    expect(denied.text).toBe('invalid api token');
    expect((await raw(sidecar, '/v1.0/metadata', { headers: { 'dapr-api-token': 'wrong' } })).status).toBe(401);
    expect((await raw(sidecar, '/v1.0/healthz/outbound')).status).toBe(204);
    const client = sdkClient(sidecar, 'sidecar-token');
    const metadata = await client.metadata.get();
    expect(metadata.id).toBe('surface');
    await client.metadata.set('team', 'quiz');
    expect(JSON.parse((await raw(sidecar, '/v1.0/metadata', auth)).text)).toMatchObject({
      extended: { team: 'quiz' },
      appConnectionProperties: { port: appPort },
    });
    await client.stop();
  });

  it('reports not ready until the app port opens, then 204; sends APP_API_TOKEN to the app', async () => {
    const before = await raw(sidecar, '/v1.0/healthz');
    expect(before.status).toBe(500);
    expect(JSON.parse(before.text)).toMatchObject({ errorCode: 'ERR_HEALTH_NOT_READY' });
    const app = await startTestApp((_req, res) => void res.end('hi'));
    const server = http.createServer((req, res) => res.end(String(req.headers['dapr-api-token'])));
    await app.close();
    await new Promise<void>((r) => server.listen(appPort, '127.0.0.1', r));
    try {
      await sidecar.ready;
      expect((await raw(sidecar, '/v1.0/healthz')).status).toBe(204);
      expect(JSON.parse((await raw(sidecar, '/v1.0/healthz?appid=other')).text)).toMatchObject({
        errorCode: 'ERR_HEALTH_APPID_NOT_MATCH',
      });
      const self = await raw(sidecar, '/v1.0/invoke/surface/method/token', auth);
      expect(self.text).toBe('app-token');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('answers 501 ERR_NOT_IMPLEMENTED naming unimplemented building blocks, 404 for unknown paths', async () => {
    for (const [path, what] of [
      ['/v1.0/actors/Game/1/method/play', 'actors'],
      ['/v1.0-beta1/workflows/dapr/start', 'workflow'],
      ['/v1.0-alpha1/configuration/store', 'configuration'],
      ['/v1.0-alpha1/lock/store', 'lock'],
      ['/v1.0-alpha1/jobs/nightly', 'jobs'],
    ] as const) {
      const res = await raw(sidecar, path, { ...auth, method: 'POST' });
      expect(res.status).toBe(501);
      const body = JSON.parse(res.text) as { errorCode: string; message: string };
      expect(body.errorCode).toBe('ERR_NOT_IMPLEMENTED');
      expect(body.message).toContain(what);
    }
    expect((await raw(sidecar, '/v2/nothing', auth)).status).toBe(404);
  });

  it('shuts down on POST /v1.0/shutdown and removes its registry entry', async () => {
    expect(existsSync(join(registryDir, 'surface.json'))).toBe(true);
    const client = sdkClient(sidecar, 'sidecar-token');
    await client.sidecar.shutdown();
    await eventually(() => shutdownRequested);
    expect(existsSync(join(registryDir, 'surface.json'))).toBe(false);
    await client.stop();
  });
});

describe('quizmesh-sidecar command', () => {
  const bin = join(__dirname, '..', 'bin', 'quizmesh-sidecar.cjs');

  it('parses daprd flag forms (single dash, repeatable resources paths, booleans)', () => {
    const parsed = parseSidecarArgs([
      '-app-id',
      'quiz',
      '--app-port=3002',
      '--resources-path',
      'a',
      '--resources-path',
      'b',
      '--enable-app-health-check=true',
      '--app-health-probe-interval',
      '2',
    ]);
    expect(parsed.options).toMatchObject({
      appId: 'quiz',
      appPort: 3002,
      daprHttpPort: 3500,
      resourcesPaths: ['a', 'b'],
      appHealthCheck: { path: '/healthz', intervalMs: 2000, threshold: 3 },
    });
    expect(() => parseSidecarArgs(['--app-id', 'x', '--app-protocol', 'grpc'])).toThrow(/only http/);
    expect(() => parseSidecarArgs(['--app-port', '1'])).toThrow(/--app-id is required/);
    expect(() => parseSidecarArgs(['--app-id', 'x', '--bogus'])).toThrow();
  });

  it('runs with the launcher flags, serves the API, and exits 0 on SIGTERM', async () => {
    const registryDir = tempDir('reg');
    const common = resourcesDir({
      'config.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: cfg}\nspec: {tracing: {samplingRate: "1"}}\n',
      'resiliency.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec: {policies: {timeouts: {general: 5s}}, targets: {apps: {quiz: {timeout: general}}}}\n',
    });
    const embedded = resourcesDir({ 'state.yaml': component('statestore', 'state.in-memory') });
    const app = await startTestApp((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    const child = spawn(
      process.execPath,
      [
        bin,
        '--app-id',
        'cli-app',
        '--app-port',
        String(app.port),
        '--dapr-http-port',
        '0',
        '--resources-path',
        common,
        '--resources-path',
        embedded,
        '--config',
        join(common, 'config.yaml'),
        '--log-level',
        'warn',
      ],
      { env: { ...process.env, QUIZMESH_SIDECAR_REGISTRY: registryDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const entryFile = join(registryDir, 'cli-app.json');
      await eventually(() => existsSync(entryFile), 30_000);
      const { httpPort } = JSON.parse(readFileSync(entryFile, 'utf8')) as { httpPort: number };
      const fake = { appId: 'cli-app', httpPort, ready: Promise.resolve(), close: async () => undefined };
      await eventually(async () => (await raw(fake, '/v1.0/healthz')).status === 204);
      const metadata = JSON.parse((await raw(fake, '/v1.0/metadata')).text) as {
        id: string;
        components: Array<{ name: string }>;
      };
      expect(metadata.id).toBe('cli-app');
      expect(metadata.components.map((c) => c.name)).toEqual(['statestore']);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(entryFile)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await app.close();
      removeDir(registryDir);
      removeDir(common);
      removeDir(embedded);
    }
    expect(output).not.toContain('"level":50');
  });

  it('exits 1 with a log line naming the file on a configuration error, and 2 on bad flags', async () => {
    const dir = resourcesDir({ 'bad.yaml': component('statestore', 'state.nope') });
    const run = (args: string[]): Promise<{ code: number | null; output: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], {
          env: { ...process.env, QUIZMESH_SIDECAR_REGISTRY: dir },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        child.on('exit', (code) => resolve({ code, output }));
      });
    try {
      const bad = await run(['--app-id', 'cli-bad', '--dapr-http-port', '0', '--resources-path', dir]);
      expect(bad.code).toBe(1);
      expect(bad.output).toContain(
        'bad.yaml: Component \\"statestore\\" (state.nope): spec.type: unknown component type',
      );
      const usage = await run(['--app-port', '3000']);
      expect(usage.code).toBe(2);
      expect(usage.output).toContain('--app-id is required');
    } finally {
      removeDir(dir);
    }
  });
});

describe('declared resources folders', () => {
  it('fails clearly for a missing --resources-path folder or --config file', async () => {
    const registryDir = tempDir('reg');
    try {
      await expect(
        startTestSidecar({ appId: 'nofolder', registryDir, resourcesPaths: [join(registryDir, 'missing')] }),
      ).rejects.toThrow(/--resources-path .*missing: cannot read folder/);
      const cfg = join(registryDir, 'c.yaml');
      writeFileSync(
        cfg,
        'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {type: state.in-memory}\n',
      );
      await expect(startTestSidecar({ appId: 'nocfg', registryDir, configPath: cfg })).rejects.toThrow(
        /no dapr.io Configuration resource/,
      );
    } finally {
      removeDir(registryDir);
    }
  });
});
