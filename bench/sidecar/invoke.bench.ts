/**
 * Service invocation overhead: client → sidecar A → sidecar B → app, against the same client
 * calling the app directly, in the same run (same payload, same keep-alive client).
 * Sidecars run as separate processes through the `quizmesh-sidecar` command, as in `npm start`.
 * Prints p50/p99 added latency and throughput; writes bench/results/sidecar-invoke.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const SEQUENTIAL_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = 32;
const PAYLOAD = JSON.stringify({ quizId: 'q-123', answers: [1, 3, 2, 0, 1, 2, 3, 0], playerId: 'p-42' });

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function post(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PAYLOAD) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(PAYLOAD);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Target {
  name: string;
  port: number;
  path: string;
}

async function sequential(targets: Target[], total: number): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const block = 250;
  // Interleave blocks so drift (GC, CPU frequency) affects every target alike.
  for (let done = 0; done < total; done += block) {
    for (const t of targets) {
      const list = samples.get(t.name) ?? [];
      for (let i = 0; i < block; i++) {
        const start = process.hrtime.bigint();
        await post(t.port, t.path);
        list.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
  }
  return samples;
}

async function throughput(target: Target, seconds: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let count = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      await post(target.port, target.path);
      count += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / seconds;
}

function startSidecar(args: string[], registryDir: string): ChildProcess {
  const bin = join(__dirname, '..', '..', 'packages', 'sidecar', 'bin', 'quizmesh-sidecar.cjs');
  return spawn(process.execPath, [bin, '--dapr-http-port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, QUIZMESH_SIDECAR_REGISTRY: registryDir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function waitForPort(registryDir: string, appId: string): Promise<number> {
  const file = join(registryDir, `${appId}.json`);
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { httpPort: number }).httpPort;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sidecar ${appId} did not start`);
}

async function main(): Promise<void> {
  const registryDir = mkdtempSync(join(tmpdir(), 'qm-bench-reg-'));
  const app = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/dapr/subscribe') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.stringify({ received: Buffer.concat(chunks).length, ok: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  app.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const children = [
    startSidecar(['--app-id', 'bench-caller'], registryDir),
    startSidecar(['--app-id', 'bench-callee', '--app-port', String(appPort)], registryDir),
  ];
  try {
    const callerPort = await waitForPort(registryDir, 'bench-caller');
    await waitForPort(registryDir, 'bench-callee');
    const direct: Target = { name: 'direct', port: appPort, path: '/api/v1/answers' };
    const viaSidecars: Target = {
      name: 'via-sidecars',
      port: callerPort,
      path: '/v1.0/invoke/bench-callee/method/api/v1/answers',
    };
    // Warm-up: JIT, keep-alive pools, registry cache.
    await sequential([direct, viaSidecars], 1000);
    const samples = await sequential([direct, viaSidecars], SEQUENTIAL_REQUESTS);
    const stats = (name: string): { p50: number; p90: number; p99: number; mean: number } => {
      const sorted = [...(samples.get(name) ?? [])].sort((a, b) => a - b);
      return {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
      };
    };
    const d = stats('direct');
    const v = stats('via-sidecars');
    const directRps = await throughput(direct, THROUGHPUT_SECONDS);
    const viaRps = await throughput(viaSidecars, THROUGHPUT_SECONDS);
    const round = (n: number): number => Math.round(n * 1000) / 1000;
    const result = {
      benchmark: 'sidecar-invoke',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
      payloadBytes: Buffer.byteLength(PAYLOAD),
      sequentialRequests: SEQUENTIAL_REQUESTS,
      latencyMs: {
        direct: { p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), mean: round(d.mean) },
        viaTwoSidecars: { p50: round(v.p50), p90: round(v.p90), p99: round(v.p99), mean: round(v.mean) },
        added: { p50: round(v.p50 - d.p50), p99: round(v.p99 - d.p99) },
      },
      throughputRps: {
        concurrency: CONCURRENCY,
        seconds: THROUGHPUT_SECONDS,
        direct: Math.round(directRps),
        viaTwoSidecars: Math.round(viaRps),
      },
      reference: { realDaprAddedP50Ms: 1.1, realDaprAddedP99Ms: 2.9 },
    };
    console.log(`payload ${result.payloadBytes} B, ${SEQUENTIAL_REQUESTS} sequential requests per path`);
    console.log(`direct          p50 ${d.p50.toFixed(3)} ms  p90 ${d.p90.toFixed(3)} ms  p99 ${d.p99.toFixed(3)} ms`);
    console.log(`via 2 sidecars  p50 ${v.p50.toFixed(3)} ms  p90 ${v.p90.toFixed(3)} ms  p99 ${v.p99.toFixed(3)} ms`);
    console.log(
      `added           p50 +${result.latencyMs.added.p50} ms  p99 +${result.latencyMs.added.p99} ms   (real Dapr: +1.1 / +2.9 ms)`,
    );
    console.log(
      `throughput (concurrency ${CONCURRENCY}): direct ${result.throughputRps.direct} req/s, via sidecars ${result.throughputRps.viaTwoSidecars} req/s`,
    );
    const out = join(__dirname, '..', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'sidecar-invoke.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    agent.destroy();
    app.closeAllConnections();
    app.close();
    rmSync(registryDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
