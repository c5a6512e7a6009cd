/**
 * Memory of the gateway's live streams (services/gateway/src/stream/hub.ts): heap and RSS per
 * open stream with clients that read, and the bound on what the gateway holds for clients that
 * stop reading (each stream's queue is capped by STREAM_MAX_BUFFERED_BYTES, then the client is
 * dropped). The hub runs in this process behind a plain node:http server; the clients run in a
 * child process, so their sockets do not count. Baseline: the same server with the same
 * number of idle keep-alive connections that hold no stream.
 * Prints a table; writes bench/results/gateway-stream-memory.json.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { StreamHub } from '../../services/gateway/src/stream/hub';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 2_000);
const SLOW_STREAMS = Number(process.env.BENCH_SLOW_STREAMS ?? 200);
const MAX_BUFFERED = 64 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function memory() {
  for (let i = 0; i < 3; i += 1) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
}

const CLIENT = `
const http = require('node:http');
const [port, count, mode] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let open = 0;
for (let i = 0; i < Number(count); i += 1) {
  const req = http.request({ host: '127.0.0.1', port: Number(port), path: '/' + mode, agent }, (res) => {
    open += 1;
    if (mode === 'paused') res.pause(); else res.on('data', () => {});
    if (open === Number(count)) process.send('open');
  });
  req.on('error', () => {});
  req.end();
}
process.on('message', () => process.exit(0));
`;

async function clients(port: number, count: number, mode: 'stream' | 'paused' | 'idle') {
  const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(count), mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('bye');
      }),
  };
}

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function main() {
  const logger = pino({ level: 'silent' });
  const hub = new StreamHub({
    heartbeatMs: 60_000,
    retryMs: 5_000,
    maxConnections: 1_000_000,
    maxConnectionsPerUser: 1_000_000,
    maxConnectionsPerAddress: 1_000_000,
    maxBufferedBytes: MAX_BUFFERED,
    logger,
  });
  let n = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/idle') {
      // Baseline: an answered request on a kept-alive connection, no stream.
      res.writeHead(200, { 'content-length': '2' }).end('ok');
      return;
    }
    n += 1;
    hub.open(res, { id: `user-${n}`, expiresAtMs: Date.now() + 3_600_000 }, undefined, `10.0.${n >> 8}.${n & 255}`);
  });
  server.maxConnections = 1_000_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const before = memory();
  const idle = await clients(port, STREAMS, 'idle');
  const withIdle = memory();
  await idle.close();
  await new Promise((resolve) => setTimeout(resolve, 500));

  const base = memory();
  const readers = await clients(port, STREAMS, 'stream');
  await until(() => hub.size === STREAMS);
  const withStreams = memory();
  const frame = {
    board: 'global',
    top: Array.from({ length: 10 }, (_, i) => ({ rank: i + 1, userId: `u${i}`, score: 42 })),
  };
  const fanOutStart = process.hrtime.bigint();
  for (let i = 0; i < 100; i += 1) hub.broadcast({ event: 'leaderboard', id: `e${i}`, data: frame });
  const fanOutMs = Number(process.hrtime.bigint() - fanOutStart) / 1e6;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const afterEvents = memory();
  await readers.close();
  await until(() => hub.size === 0);

  // Clients that never read: the gateway may hold at most MAX_BUFFERED per stream, then drops them.
  memory();
  const slow = await clients(port, SLOW_STREAMS, 'paused');
  await until(() => hub.size === SLOW_STREAMS);
  // Sampled without forcing a GC, like the peak below.
  const raw = process.memoryUsage();
  const slowBase = raw.heapUsed + raw.external + raw.arrayBuffers;
  const big = { padding: 'x'.repeat(16 * 1024) };
  let peakHeap = 0;
  let sent = 0;
  while (hub.size > 0 && sent < 10_000) {
    hub.broadcast({ event: 'leaderboard', id: `b${sent}`, data: big });
    sent += 1;
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed + m.external + m.arrayBuffers);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const droppedAll = hub.size === 0;
  await slow.close();
  hub.close();
  server.closeAllConnections();
  server.close();

  const kib = (bytes: number) => Math.round(bytes / 102.4) / 10;
  const perStream = {
    heapUsedKiB: kib((withStreams.heapUsed - base.heapUsed) / STREAMS),
    externalKiB: kib((withStreams.external - base.external) / STREAMS),
    rssKiB: kib((withStreams.rss - base.rss) / STREAMS),
  };
  const perIdleConnection = {
    heapUsedKiB: kib((withIdle.heapUsed - before.heapUsed) / STREAMS),
    rssKiB: kib((withIdle.rss - before.rss) / STREAMS),
  };
  const slowPeakPerStreamKiB = kib((peakHeap - slowBase) / SLOW_STREAMS);
  const result = {
    bench: 'gateway/stream-memory',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    streams: STREAMS,
    perStream,
    baselinePerIdleKeepAliveConnection: perIdleConnection,
    heapAfter100BroadcastsKiBPerStream: kib((afterEvents.heapUsed - base.heapUsed) / STREAMS),
    fanOut100EventsMs: Math.round(fanOutMs),
    nonReading: {
      streams: SLOW_STREAMS,
      maxBufferedBytesPerStream: MAX_BUFFERED,
      framesSent: sent,
      allDropped: droppedAll,
      peakHeldPerStreamKiB: slowPeakPerStreamKiB,
    },
  };
  console.table({
    'per stream (reading)': perStream,
    'baseline: per idle keep-alive connection': perIdleConnection,
  });
  console.log(
    `non-reading clients: ${SLOW_STREAMS} streams, peak held ${slowPeakPerStreamKiB} KiB per stream ` +
      `(cap ${MAX_BUFFERED / 1024} KiB), all dropped: ${droppedAll}; fan-out of 100 events to ${STREAMS} streams: ${Math.round(fanOutMs)} ms`,
  );
  const out = join(__dirname, '..', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'gateway-stream-memory.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
