/**
 * What one HTTP exchange between two local Node processes costs in CPU, at the rates the
 * submission path sees, so the e2e CPU figures can be read against a floor: a submission is
 * about N such exchanges (apps ↔ sidecars), and no change inside the services makes it cheaper
 * than N of these.
 *
 * Two child processes (exchange-floor-peer.cjs): a server answering a JSON POST (bare `node:http`, and Express with the
 * JSON body parser as every app runs it) and a client sending a ~600-byte JSON body over one
 * keep-alive agent at a fixed open-loop rate. CPU time of both children (their own
 * `process.cpuUsage()`, sent back at the end) divided by the exchanges. Writes
 * bench/results/e2e-exchange-floor.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const RATES = (process.env.BENCH_FLOOR_RATES ?? '2,20,100,400').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 15);
/** Node flags of both peers (BENCH_FLOOR_NODE_FLAGS, space-separated), e.g. the launcher's. */
const PEER_FLAGS = (process.env.BENCH_FLOOR_NODE_FLAGS ?? '').split(' ').filter(Boolean);

interface CpuReport {
  cpuMs: number;
}

function next<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
}

async function measure(kind: string, rate: number) {
  // Plain Node without a loader, as the launcher runs the platform's processes: tsx's loader
  // alone costs an idle process about 9 ms of CPU a second.
  const peer = join(__dirname, 'exchange-floor-peer.cjs');
  const serverProcess = fork(peer, ['server', kind], { execArgv: PEER_FLAGS });
  const { port } = await next<{ port: number }>(serverProcess);
  const clientProcess = fork(peer, ['client', String(port), String(rate), String(SECONDS)], { execArgv: PEER_FLAGS });
  await next(clientProcess); // warm
  serverProcess.send({ type: 'start' });
  clientProcess.send({ type: 'go' });
  const clientReport = await next<CpuReport & { sent: number }>(clientProcess);
  serverProcess.send({ type: 'stop' });
  const serverReport = await next<CpuReport>(serverProcess);
  serverProcess.kill();
  clientProcess.kill();
  const per = (ms: number) => Math.round((ms / clientReport.sent) * 1000) / 1000;
  return {
    server: kind,
    rate,
    exchanges: clientReport.sent,
    cpuMsPerExchange: {
      client: per(clientReport.cpuMs),
      server: per(serverReport.cpuMs),
      both: per(clientReport.cpuMs + serverReport.cpuMs),
    },
  };
}

async function main(): Promise<void> {
  const before = loadavg()[0];
  const results = [];
  for (const kind of ['node:http', 'express']) {
    for (const rate of RATES) {
      const result = await measure(kind, rate);
      results.push(result);
      console.log(
        `${kind.padEnd(9)} ${String(rate).padStart(4)}/s: ${result.cpuMsPerExchange.both.toFixed(3)} ms CPU per exchange ` +
          `(client ${result.cpuMsPerExchange.client.toFixed(3)}, server ${result.cpuMsPerExchange.server.toFixed(3)})`,
      );
    }
  }
  const out = {
    benchmark: 'e2e-exchange-floor',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    measure:
      'CPU ms (client + server process) per JSON POST over a keep-alive connection between two local Node processes, open loop at a fixed rate',
    secondsPerRate: SECONDS,
    results,
    loadAverage1m: { before, after: loadavg()[0] },
  };
  const file = join(__dirname, '..', 'results', 'e2e-exchange-floor.json');
  writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`wrote ${file}`);
}

void main();
