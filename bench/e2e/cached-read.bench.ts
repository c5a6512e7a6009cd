/**
 * Gateway throughput for a cached quiz read: `GET /api/v1/quizzes/:id` (public, no token)
 * through the gateway (per-IP rate limit in Redis), which answers from the view it keeps
 * (decision 1000; its sidecar, quiz's sidecar and quiz see one request per age limit), and
 * straight from quiz, which answers from its in-process view (decision 0900) — against a bare
 * Express app answering a small JSON document (bench/gateway/hello-app.ts) in the same run.
 * Real backends, started by the launcher as `npm start`. Load: autocannon, keep-alive.
 * Besides requests per second (which a loaded machine skews), the CPU time each of our
 * processes spent per request during each run (from /proc): the bare app's CPU per request
 * divided by the sum over the processes the request passes through is the share of the bare
 * app's throughput the path would reach on cores of its own; it holds better under load than
 * requests per second (decision 0900).
 * Prints a table and writes bench/results/e2e-cached-read.json. `--cpu-prof=DIR`: V8 CPU
 * profiles of every app and sidecar during the measured turns (cpu-profile.cjs; summarise with
 * bench/e2e/profile-summary.ts).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { backendUrls } from '@quizmesh/platform/testing';
import { createCast, quizBody, startE2EPlatform } from '@quizmesh/e2e';
import { cpuSnapshot, platformNodePids, type CpuSnapshot } from './cpu';
import { writeResult } from './stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ROOT = join(__dirname, '..', '..');
const SIDECARS_AND_QUIZ = ['gateway sidecar', 'quiz sidecar', 'quiz app'];
const GATEWAY_PATH = ['gateway app', ...SIDECARS_AND_QUIZ];
const CPU_PROFILE_DIR = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);

/**
 * CPU µs per request by process, between two snapshots; `pathUs` sums the processes the request
 * passes through (backends are listed, not summed: other runs on the machine share them).
 */
function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number, path: readonly string[]) {
  const byName = new Map<string, number>();
  for (const [pid, { name, ms }] of after) {
    if (name === 'benchmark client') continue;
    byName.set(name, (byName.get(name) ?? 0) + Math.max(0, ms - (before.get(pid)?.ms ?? 0)));
  }
  const perProcessUs: Record<string, number> = {};
  let pathUs = 0;
  for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1])) {
    const us = Math.round((ms * 1000) / Math.max(1, requests));
    if (us === 0) continue;
    perProcessUs[name] = us;
    if (path.includes(name)) pathUs += us;
  }
  return { path, pathUs, perProcessUs };
}

interface Target {
  target: string;
  url: string;
  /** the processes a request passes through */
  path: readonly string[];
  headers?: Record<string, string>;
}

/**
 * Each target is loaded in ROUNDS slices taken in turn (bare, quiz, …, bare, quiz, …), so every
 * target sees the same phases of a machine whose load changes by the second; CPU and requests
 * are summed over the slices, latencies are the slices' worst p50/p99.
 */
async function loadInTurns(targets: readonly Target[], pids: number[], profiled: readonly number[]) {
  const sliceSeconds = Math.max(1, Math.round(SECONDS / ROUNDS));
  // A short warm-up each (JIT, keep-alive sockets, the cache).
  for (const t of targets)
    await autocannon({ url: t.url, headers: t.headers ?? {}, connections: CONNECTIONS, duration: 2 });
  const totals = targets.map(() => ({
    requests: 0,
    seconds: 0,
    errors: 0,
    non2xx: 0,
    p50: 0,
    p99: 0,
    cpu: new Map<number, { name: string; ms: number }>(),
  }));
  for (const pid of profiled) process.kill(pid, 'SIGUSR2');
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, t] of targets.entries()) {
      const before = cpuSnapshot(pids);
      const result = await autocannon({
        url: t.url,
        headers: t.headers ?? {},
        connections: CONNECTIONS,
        duration: sliceSeconds,
      });
      const after = cpuSnapshot(pids);
      const total = totals[i];
      if (!total) continue;
      total.requests += result.requests.total;
      total.seconds += sliceSeconds;
      total.errors += result.errors;
      total.non2xx += result.non2xx;
      total.p50 = Math.max(total.p50, result.latency.p50);
      total.p99 = Math.max(total.p99, result.latency.p99);
      for (const [pid, { name, ms }] of after) {
        const spent = Math.max(0, ms - (before.get(pid)?.ms ?? 0));
        total.cpu.set(pid, { name, ms: (total.cpu.get(pid)?.ms ?? 0) + spent });
      }
    }
  }
  for (const pid of profiled) process.kill(pid, 'SIGUSR2');
  return targets.map((t, i) => {
    const total = totals[i] ?? { requests: 0, seconds: 1, errors: 0, non2xx: 0, p50: 0, p99: 0, cpu: new Map() };
    return {
      target: t.target,
      requestsPerSecond: Math.round(total.requests / total.seconds),
      latencyMs: { p50: total.p50, p99: total.p99 },
      errors: total.errors,
      non2xx: total.non2xx,
      cpuPerRequestUs: cpuPerRequest(new Map(), total.cpu, total.requests, t.path),
    };
  });
}

async function startHelloApp(): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@quizmesh/source', '--import', 'tsx', join(ROOT, 'bench/gateway/hello-app.ts')],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const { port } = JSON.parse(line) as { port: number };
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') };
}

async function cacheKeys(runId: string): Promise<number> {
  const redis = new Redis(backendUrls.redis);
  try {
    const [, keys] = await redis.scan('0', 'MATCH', `${runId}.quiz||*`, 'COUNT', 10_000);
    return keys.length;
  } finally {
    redis.disconnect();
  }
}

async function main() {
  console.log('starting gateway, identity and quiz on local backends…');
  if (CPU_PROFILE_DIR) {
    process.env.QUIZMESH_CPU_PROFILE_DIR = resolve(CPU_PROFILE_DIR);
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'cpu-profile.cjs')}`;
  }
  const e2e = await startE2EPlatform({ backends: 'local', services: ['identity', 'quiz'] });
  const hello = await startHelloApp();
  try {
    const cast = await createCast(e2e.gateway, 0, 'bench');
    const quiz = await e2e.gateway.publishQuiz(cast.author, quizBody('Cached read'));
    const quizUrl = `${e2e.platform.gatewayUrl}/api/v1/quizzes/${quiz.id}`;
    const first = await fetch(quizUrl);
    if (first.status !== 200) throw new Error(`GET ${quizUrl} answered ${first.status}`);
    const bodyBytes = (await first.arrayBuffer()).byteLength;

    const loadBefore = Number(loadavg()[0]?.toFixed(2));
    // Where the time goes: the same read from quiz directly, then through the two sidecars, then the gateway.
    const quizPath = `/api/v1/quizzes/${quiz.id}`;
    const gatewaySidecar = e2e.platform.endpoints.gateway?.sidecarPort ?? 0;
    // Direct calls carry the tokens the sidecars would (docs/api.md, trust boundaries).
    const pids = [...e2e.platform.pids, hello.pid];
    const etag = first.headers.get('etag') ?? '';
    const results = await loadInTurns(
      [
        { target: 'bare Express app (hello JSON)', url: hello.url, path: ['bare app'] },
        {
          target: 'quiz app directly',
          url: `${e2e.platform.endpoints.quiz?.appUrl ?? ''}${quizPath}`,
          path: ['quiz app'],
          headers: { 'dapr-api-token': e2e.platform.endpoints.quiz?.appApiToken ?? '' },
        },
        {
          target: 'quiz via the two sidecars',
          url: `http://127.0.0.1:${gatewaySidecar}/v1.0/invoke/quiz/method${quizPath}`,
          path: SIDECARS_AND_QUIZ,
          headers: { 'dapr-api-token': e2e.platform.endpoints.gateway?.daprApiToken ?? '' },
        },
        { target: 'gateway → quiz (public API)', url: quizUrl, path: GATEWAY_PATH },
        // What a client that keeps the view sends: the ETag back, 304 without a body.
        {
          target: 'gateway → quiz, If-None-Match (304)',
          url: quizUrl,
          path: GATEWAY_PATH,
          headers: { 'if-none-match': etag },
        },
      ],
      pids,
      CPU_PROFILE_DIR ? platformNodePids(e2e.platform.pids) : [],
    );
    const cached = await cacheKeys(e2e.platform.runId ?? '');

    console.log(
      `\ncached quiz read through the gateway vs a bare Express app (${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} turns)`,
    );
    console.log(
      'target                                 req/s  p50 ms  p99 ms  errors  non-2xx  CPU µs/req on the path (every process)',
    );
    for (const r of results) {
      console.log(
        `${r.target.padEnd(37)} ${String(r.requestsPerSecond).padStart(6)}  ${String(r.latencyMs.p50).padStart(6)}  ${String(r.latencyMs.p99).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}  ${String(r.cpuPerRequestUs.pathUs).padStart(6)}  ${JSON.stringify(r.cpuPerRequestUs.perProcessUs)}`,
      );
    }
    const [bare, quizDirect, , gateway] = results;
    const share = (r: (typeof results)[number] | undefined, key: 'rps' | 'cpu') => {
      if (!bare || !r) return Number.NaN;
      const value =
        key === 'rps'
          ? r.requestsPerSecond / bare.requestsPerSecond
          : bare.cpuPerRequestUs.pathUs / r.cpuPerRequestUs.pathUs;
      return Math.round(value * 1000) / 10;
    };
    const ratio = share(gateway, 'rps');
    const shares = {
      gatewayShareOfBarePercent: ratio,
      quizShareOfBarePercent: share(quizDirect, 'rps'),
      gatewayCpuShareOfBarePercent: share(gateway, 'cpu'),
      quizCpuShareOfBarePercent: share(quizDirect, 'cpu'),
    };
    console.log(
      `throughput share of the bare app: gateway path ${shares.gatewayShareOfBarePercent}%, quiz app ${shares.quizShareOfBarePercent}%; by CPU per request: gateway path ${shares.gatewayCpuShareOfBarePercent}%, quiz app ${shares.quizCpuShareOfBarePercent}%`,
    );
    console.log(`quiz body ${bodyBytes} bytes; quiz cache keys in Redis: ${cached}`);
    console.log(`machine load average (1 min) before/after: ${loadBefore} / ${loadavg()[0]?.toFixed(2)}`);
    writeResult('cached-read', {
      backends: 'local (PostgreSQL, Redis, RabbitMQ)',
      request:
        'GET /api/v1/quizzes/:id (public; player view rendered once, in memory in front of the Dapr state store)',
      connections: CONNECTIONS,
      seconds: SECONDS,
      rounds: ROUNDS,
      quizBodyBytes: bodyBytes,
      quizCacheKeysInRedis: cached,
      ...shares,
      // The run before decision 0900 (2026-11-22, 32 connections, 8 s, load 3.0): req/s only.
      previous: { bare: 9274, quizDirect: 1517, viaSidecars: 1346, gateway: 699, gatewayShareOfBarePercent: 7.5 },
      results,
      loadAverage1m: { before: loadBefore, after: Number(loadavg()[0]?.toFixed(2)) },
    });
  } finally {
    hello.stop();
    await e2e.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
