/**
 * Gateway throughput for a cached quiz read: `GET /api/v1/quizzes/:id` (public, no token)
 * through the gateway (per-IP rate limit in Redis, its sidecar, quiz's sidecar) to quiz, which
 * answers the player view from its cache in the Dapr state store (Redis) — against a bare
 * Express app answering a small JSON document (bench/gateway/hello-app.ts) in the same run.
 * Real backends, started by the launcher as `npm start`. Load: autocannon, keep-alive.
 * Prints a table and writes bench/results/e2e-cached-read.json.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { backendUrls } from '@quizmesh/platform/testing';
import { createCast, quizBody, startE2EPlatform } from '@quizmesh/e2e';
import { writeResult } from './stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROOT = join(__dirname, '..', '..');

async function load(target: string, url: string, headers: Record<string, string> = {}) {
  // A short warm-up (JIT, keep-alive sockets, the cache), then the measured run.
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 2 });
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS });
  return {
    target,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average },
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function startHelloApp(): Promise<{ url: string; stop(): void }> {
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
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
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
    const results = [
      await load('bare Express app (hello JSON)', hello.url),
      await load('quiz app directly', `${e2e.platform.endpoints.quiz?.appUrl ?? ''}${quizPath}`, {
        'dapr-api-token': e2e.platform.endpoints.quiz?.appApiToken ?? '',
      }),
      await load('quiz via the two sidecars', `http://127.0.0.1:${gatewaySidecar}/v1.0/invoke/quiz/method${quizPath}`, {
        'dapr-api-token': e2e.platform.endpoints.gateway?.daprApiToken ?? '',
      }),
      await load('gateway → quiz (public API)', quizUrl),
    ];
    const cached = await cacheKeys(e2e.platform.runId ?? '');

    console.log(
      `\ncached quiz read through the gateway vs a bare Express app (${CONNECTIONS} connections, ${SECONDS} s each)`,
    );
    console.log('target                              req/s    p50 ms  p99 ms  errors  non-2xx');
    for (const r of results) {
      console.log(
        `${r.target.padEnd(34)} ${String(r.requestsPerSecond).padStart(6)}  ${String(r.latencyMs.p50).padStart(6)}  ${String(r.latencyMs.p99).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}`,
      );
    }
    const [bare, , , gateway] = results;
    const ratio =
      bare && gateway ? Math.round((gateway.requestsPerSecond / bare.requestsPerSecond) * 1000) / 10 : Number.NaN;
    console.log(
      `gateway path: ${ratio}% of the bare app's throughput; quiz body ${bodyBytes} bytes; quiz cache keys in Redis: ${cached}`,
    );
    console.log(`machine load average (1 min) before/after: ${loadBefore} / ${loadavg()[0]?.toFixed(2)}`);
    writeResult('cached-read', {
      backends: 'local (PostgreSQL, Redis, RabbitMQ)',
      request: 'GET /api/v1/quizzes/:id (public; player view cached in the Dapr state store)',
      connections: CONNECTIONS,
      seconds: SECONDS,
      quizBodyBytes: bodyBytes,
      quizCacheKeysInRedis: cached,
      gatewayShareOfBarePercent: ratio,
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
