/**
 * Leaderboard reads at scale: one board of 1,000,000 players, in Redis (sorted set, the
 * production store when REDIS_URL is set) and in the in-process order-statistic tree (the
 * embedded default). Measures top-10 pages, rank lookups and rank ±5 neighbourhoods through the
 * LeaderboardStore interface the service uses, against Redis PING on the same connection as the
 * baseline (the floor of any Redis round trip). Reports memory per board: Redis `MEMORY USAGE`
 * of the key, and the process heap delta for the in-process board.
 * Prints figures and writes bench/results/evaluation-leaderboard.json; deletes its Redis keys.
 *
 *   npm run bench -- evaluation          (BENCH_PLAYERS, BENCH_SAMPLES to change the sizes)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { encodeBoardScore } from '../../services/evaluation/src/leaderboard/score';
import {
  MemoryLeaderboardStore,
  RedisLeaderboardStore,
  type BoardUpdate,
  type LeaderboardStore,
} from '../../services/evaluation/src/leaderboard';

const PLAYERS = Number(process.env.BENCH_PLAYERS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5_000);
const LOAD_BATCH = 10_000;
const REDIS_URL = process.env.QUIZMESH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BOARD = 'global';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(run: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < 200; i++) await run(i); // warm-up (JIT, script cache, connection)
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    await run(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    p50Ms: round(percentile(samples, 50)),
    p99Ms: round(percentile(samples, 99)),
    maxMs: round(samples[samples.length - 1] ?? Number.NaN),
  };
}

/** Players with scores 0..1000 finished at random seconds of one week; fixed seed, so both stores get the same board. */
function players(): { userIds: string[]; updates: (from: number, to: number) => BoardUpdate[] } {
  const userIds = Array.from({ length: PLAYERS }, () => randomUUID());
  let seed = 12345;
  const next = () => (seed = (seed * 48271) % 2147483647);
  const scores = Float64Array.from({ length: PLAYERS }, () =>
    encodeBoardScore(next() % 1001, new Date(Date.UTC(2026, 10, 16) + (next() % 604_800) * 1000)),
  );
  return {
    userIds,
    updates: (from, to) => {
      const out: BoardUpdate[] = [];
      for (let i = from; i < to; i++) out.push({ board: BOARD, userId: userIds[i] ?? '', boardScore: scores[i] ?? 0 });
      return out;
    },
  };
}

async function load(store: LeaderboardStore, data: ReturnType<typeof players>): Promise<number> {
  const start = performance.now();
  // Batches go through the store's own write path (Redis: one pipelined MULTI of ZADD GT each).
  for (let from = 0; from < PLAYERS; from += LOAD_BATCH)
    await store.record(data.updates(from, Math.min(PLAYERS, from + LOAD_BATCH)));
  return Math.round(performance.now() - start);
}

async function reads(store: LeaderboardStore, userIds: string[]) {
  const pick = (i: number) => userIds[(i * 7919) % userIds.length] ?? '';
  return {
    top10: await measure(() => store.top(BOARD, 0, 10)),
    rank: await measure((i) => store.around(BOARD, pick(i), 0)),
    rankAround5: await measure((i) => store.around(BOARD, pick(i), 5)),
  };
}

async function main() {
  console.log(
    `leaderboard bench: ${PLAYERS.toLocaleString('en')} players, ${SAMPLES} samples per figure, ${cpus().length} cores`,
  );
  const data = players();

  // ------------------------------------------------------------------ Redis
  const keyPrefix = `qm_bench_eval:${randomUUID()}:`;
  const redis = new RedisLeaderboardStore({ url: REDIS_URL, keyPrefix, logger: pino({ level: 'silent' }) });
  let redisFigures: Record<string, unknown>;
  try {
    const loadMs = await load(redis, data);
    if ((await redis.size(BOARD)) !== PLAYERS) throw new Error('redis board has the wrong size');
    const memoryBytes = Number(await redis.redis.call('MEMORY', 'USAGE', redis.keyOf(BOARD), 'SAMPLES', '0'));
    const baselinePing = await measure(() => redis.redis.ping());
    const figures = await reads(redis, data.userIds);
    redisFigures = { loadMs, memoryBytes, bytesPerPlayer: Math.round(memoryBytes / PLAYERS), baselinePing, ...figures };
    console.log('\nRedis sorted set');
    console.log(`  load            ${loadMs} ms (pipelined MULTI of ${LOAD_BATCH} ZADD GT)`);
    console.log(
      `  memory          ${(memoryBytes / 2 ** 20).toFixed(1)} MiB (${Math.round(memoryBytes / PLAYERS)} B/player, MEMORY USAGE)`,
    );
    console.log(`  baseline PING   p50 ${baselinePing.p50Ms} ms  p99 ${baselinePing.p99Ms} ms`);
    for (const [name, l] of Object.entries(figures))
      console.log(`  ${name.padEnd(15)} p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms  max ${l.maxMs} ms`);
  } finally {
    await redis.deleteBoards([BOARD]);
    await redis.close();
  }

  // ------------------------------------------------------------------ in-process
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const memory = new MemoryLeaderboardStore();
  const loadMs = await load(memory, data);
  gc();
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  const figures = await reads(memory, data.userIds);
  const memoryFigures = {
    loadMs,
    heapDeltaBytes: heapDelta,
    bytesPerPlayer: Math.round(heapDelta / PLAYERS),
    ...figures,
  };
  console.log('\nIn-process order-statistic tree');
  console.log(`  load            ${loadMs} ms`);
  console.log(
    `  heap delta      ${(heapDelta / 2 ** 20).toFixed(1)} MiB (${Math.round(heapDelta / PLAYERS)} B/player, user id strings shared with the test data)`,
  );
  for (const [name, l] of Object.entries(figures))
    console.log(`  ${name.padEnd(15)} p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms  max ${l.maxMs} ms`);
  await memory.close();

  const resultsDir = join(__dirname, '..', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const out = {
    bench: 'evaluation/leaderboard',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    players: PLAYERS,
    samples: SAMPLES,
    redis: redisFigures,
    inProcess: memoryFigures,
  };
  writeFileSync(join(resultsDir, 'evaluation-leaderboard.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('\nwrote bench/results/evaluation-leaderboard.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
