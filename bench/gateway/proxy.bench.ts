/**
 * Gateway overhead: requests/s and p50/p99 latency of `GET /api/v1/users/me` through the
 * gateway (JWT verification + per-IP and per-user rate limits + proxy through the gateway's
 * sidecar and identity's sidecar) against the same bare Express app called directly, and
 * against the two sidecar hops without the gateway, in one run. Every piece is its own process, as in `npm start`: the app, two `quizmesh-sidecar`s
 * (with the project's Resiliency policy and access control), and the gateway, once with the in-memory
 * limiter and once with Redis (127.0.0.1:6379). Load: autocannon, keep-alive connections.
 * Prints a table; writes bench/results/gateway-proxy.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROOT = join(__dirname, '..', '..');
const PATH = '/api/v1/users/me';

const children: ChildProcess[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${name} exited with ${code}`);
  });
  children.push(child);
  return child;
}

const tsx = (file: string) => ['--conditions=@quizmesh/source', '--import', 'tsx', file];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('no stdout');
  for await (const line of createInterface({ input: child.stdout })) return line;
  throw new Error('process ended before printing');
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms`);
}

interface Figures {
  target: string;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number };
  errors: number;
  non2xx: number;
}

async function load(target: string, url: string, headers: Record<string, string>, seconds: number): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  return {
    target,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: Math.round(result.latency.mean * 100) / 100 },
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function main(): Promise<void> {
  const registryDir = mkdtempSync(join(tmpdir(), 'qm-bench-gw-'));
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = randomUUID();
    const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] };
    const token = jwt.sign({ sub: randomUUID(), roles: ['player'] }, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      issuer: 'quizmesh-identity',
      audience: 'quizmesh-api',
      expiresIn: '1h',
    });

    const app = start('hello app', tsx('bench/gateway/hello-app.ts'), { BENCH_JWKS: JSON.stringify(jwks) });
    const appPort = (JSON.parse(await firstLine(app)) as { port: number }).port;

    const sidecarBin = join(ROOT, 'packages', 'sidecar', 'bin', 'quizmesh-sidecar.cjs');
    // The project's Resiliency policy and access control; no other components are needed for invocation.
    const resourcesDir = join(registryDir, 'resources');
    mkdirSync(resourcesDir);
    copyFileSync(join(ROOT, 'components', 'common', 'resiliency.yaml'), join(resourcesDir, 'resiliency.yaml'));
    const resources = ['--resources-path', resourcesDir, '--config', 'components/common/config.yaml'];
    const sidecarEnv = { QUIZMESH_SIDECAR_REGISTRY: registryDir };
    const gatewaySidecarPort = await freePort();
    start(
      'identity sidecar',
      [
        sidecarBin,
        '--app-id',
        'identity',
        '--app-port',
        String(appPort),
        '--dapr-http-port',
        String(await freePort()),
        '--log-level',
        'warn',
        ...resources,
      ],
      sidecarEnv,
    );
    start(
      'gateway sidecar',
      [
        sidecarBin,
        '--app-id',
        'gateway',
        '--dapr-http-port',
        String(gatewaySidecarPort),
        '--log-level',
        'warn',
        ...resources,
      ],
      sidecarEnv,
    );
    await waitFor(
      'sidecars',
      () => ['identity', 'gateway'].every((id) => existsSync(join(registryDir, `${id}.json`))),
      30_000,
    );

    const gatewayEnv = {
      DAPR_HTTP_PORT: String(gatewaySidecarPort),
      UPSTREAM_APP_IDS: 'identity',
      LOG_LEVEL: 'warn',
      // The limits are checked on every request but never reached: the benchmark measures their cost.
      RATE_LIMIT_PER_IP: '1000000000',
      RATE_LIMIT_PER_USER: '1000000000',
    };
    const gateways = [
      { name: 'gateway (memory limits)', port: await freePort(), env: {} },
      {
        name: 'gateway (Redis limits)',
        port: await freePort(),
        env: { REDIS_URL: 'redis://127.0.0.1:6379', RATE_LIMIT_KEY_PREFIX: `qm-bench-${randomUUID()}` },
      },
    ];
    for (const g of gateways)
      start(g.name, tsx('services/gateway/src/main.ts'), { ...gatewayEnv, ...g.env, PORT: String(g.port) });
    for (const g of gateways)
      await waitFor(g.name, async () => (await fetch(`http://127.0.0.1:${g.port}/readyz`)).status === 200);

    const auth = { authorization: `Bearer ${token}` };
    const targets = [
      { name: 'bare Express app', url: `http://127.0.0.1:${appPort}${PATH}`, headers: {} },
      // The two sidecar hops alone (what the gateway calls), to tell their cost from the gateway's.
      {
        name: 'sidecars, no gateway',
        url: `http://127.0.0.1:${gatewaySidecarPort}/v1.0/invoke/identity/method${PATH}`,
        headers: {},
      },
      ...gateways.map((g) => ({ name: g.name, url: `http://127.0.0.1:${g.port}${PATH}`, headers: auth })),
    ];
    for (const t of targets) {
      const probe = await fetch(t.url, { headers: t.headers });
      if (probe.status !== 200) throw new Error(`${t.name}: ${probe.status} ${await probe.text()}`);
    }
    // Warm-up: JIT, keep-alive pools, JWKS cache, Redis connection.
    for (const t of targets) await load(t.name, t.url, t.headers, 2);
    const figures: Figures[] = [];
    for (const t of targets) figures.push(await load(t.name, t.url, t.headers, SECONDS));

    console.log(
      `\nGET ${PATH}, ${CONNECTIONS} keep-alive connections, ${SECONDS} s each, ${cpus().length} CPUs (load generator, app, 2 sidecars and gateway share them)\n`,
    );
    console.log(
      `${'target'.padEnd(26)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'non-2xx'.padStart(8)}`,
    );
    for (const f of figures) {
      console.log(
        `${f.target.padEnd(26)} ${String(f.requestsPerSecond).padStart(8)} ${String(f.latencyMs.p50).padStart(8)} ${String(f.latencyMs.p99).padStart(8)} ${String(f.errors).padStart(7)} ${String(f.non2xx).padStart(8)}`,
      );
    }
    const bare = figures[0];
    const result = {
      benchmark: 'gateway-proxy',
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      request: `GET ${PATH} (JWT ES256, per-IP and per-user limits, 2 sidecar hops)`,
      connections: CONNECTIONS,
      seconds: SECONDS,
      results: figures.map((f) => ({
        ...f,
        ...(bare && f !== bare
          ? { throughputVsBare: Math.round((f.requestsPerSecond / bare.requestsPerSecond) * 1000) / 1000 }
          : {}),
      })),
    };
    const out = join(__dirname, '..', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'gateway-proxy.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (figures.some((f) => f.errors > 0 || f.non2xx > 0))
      throw new Error('some requests failed: the figures are not comparable');
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    rmSync(registryDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
