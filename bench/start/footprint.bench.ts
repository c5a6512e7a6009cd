/**
 * What `npm start` costs a developer: time from launch to the banner, and RSS, PSS and CPU time
 * of the whole process tree at ready, per kind of process (apps, sidecars, databases, tsx's
 * esbuild…). Two starts on one fresh state dir: the first makes the databases (and, on a fresh
 * checkout, compiles the workspace), the second finds them. Runs what the checkout's own
 * `npm start` script runs (its package.json), so an older checkout is measured as it started.
 *
 *   npm run bench -- start                       (this checkout, label "after")
 *   node --import tsx bench/start/footprint.bench.ts --repo=/path/to/other/checkout --label=before \
 *     [--only=identity,quiz,evaluation,notification] [--child-node-flags="--max-semi-space-size=16"]
 *
 * `--child-node-flags` adds V8/Node flags to every child the launcher starts (after its own, so
 * they win): the same checkout with another young-generation size, say, in the same run.
 *
 * Each label's figures are kept in bench/results/start-footprint.json beside the others', so a
 * checkout before a change and one after can be compared in one file. PSS (/proc/<pid>/smaps_rollup)
 * splits shared pages between the processes that map them: the sum is what the tree really holds.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: resolve(__dirname, '..', '..') },
    label: { type: 'string', default: 'after' },
    runs: { type: 'string', default: '2' },
    // to compare checkouts with different services: the same set on both
    only: { type: 'string' },
    'child-node-flags': { type: 'string' },
  },
});
const repo = resolve(values.repo);
const runs = Number(values.runs);
const resultFile = join(__dirname, '..', 'results', 'start-footprint.json');

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
}

function readProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.set(Number(entry), { pid: Number(entry), ppid, cmdline });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function tree(root: number): Proc[] {
  const procs = readProcs();
  const found = [procs.get(root)].filter((p): p is Proc => p !== undefined);
  for (let i = 0; i < found.length; i++) {
    for (const p of procs.values()) if (p.ppid === found[i]?.pid) found.push(p);
  }
  return found;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of stat) in clock ticks, 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const STATUS_REQUESTS = 300;

/** CPU milliseconds the tree spends per sequential GET /api/v1/status, over STATUS_REQUESTS of them. */
async function cpuPerStatusRequest(gatewayUrl: string, procs: Proc[]): Promise<number> {
  const cpu = () => procs.reduce((sum, p) => sum + cpuSeconds(p.pid), 0);
  // Warm-up: the first requests compile code paths.
  for (let i = 0; i < 20; i++) await (await fetch(`${gatewayUrl}/api/v1/status`)).arrayBuffer();
  const before = cpu();
  for (let i = 0; i < STATUS_REQUESTS; i++) await (await fetch(`${gatewayUrl}/api/v1/status`)).arrayBuffer();
  return Math.round(((cpu() - before) * 1000 * 100) / STATUS_REQUESTS) / 100;
}

/** `node …args` of the checkout's `npm start` script, run with this Node. */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = pkg.scripts.start.split(/\s+/);
  if (command !== 'node') throw new Error(`npm start is not a node command: ${pkg.scripts.start}`);
  return args;
}

function kiB(file: string, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** What a process is, from its command line. */
function kind(p: Proc, launcherPid: number): string {
  const cmd = p.cmdline;
  if (p.pid === launcherPid) return 'launcher';
  if (/\/esbuild\b/.test(cmd)) return 'esbuild (tsx)';
  // before the server: its command line names the postgres binary too (decision 0990)
  if (/postgres-supervisor\.sh/.test(cmd)) return 'postgresql supervisor';
  if (/\/bin\/postgres\b/.test(cmd)) return 'postgresql server';
  if (/embedded-postgres/.test(cmd)) return cmd.includes('--database') ? 'postgresql wrapper' : 'pglite';
  if (/sidecar/.test(cmd)) return 'sidecar';
  const service = /services\/([a-z-]+)\//.exec(cmd)?.[1];
  if (service) return `app ${service}`;
  if (/^postgres:/.test(cmd)) return 'postgresql backend';
  return 'other';
}

async function freeOffset(): Promise<number> {
  const ports = [3001, 3002, 3003, 3004, 3500, 3501, 3502, 3503, 3504, 5440, 5441, 5442, 5443, 5444, 8080];
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 1_000 + 100 * Math.floor(Math.random() * 150);
    let free = true;
    for (const port of ports) {
      free = await new Promise<boolean>((r) => {
        const probe = createServer();
        probe.once('error', () => r(false));
        probe.listen(port + offset, '127.0.0.1', () => probe.close(() => r(true)));
      });
      if (!free) break;
    }
    if (free) return offset;
  }
  throw new Error('no free port block');
}

interface Sample {
  startSeconds: number;
  processes: number;
  rssMiB: number;
  pssMiB: number;
  /** CPU seconds the tree spent from launch to the sample (start cost) */
  cpuSeconds: number;
  /** after the sample: CPU ms of the whole tree per GET /api/v1/status (gateway → every app's sidecar and /readyz), a steady-state probe for GC settings */
  statusRequestCpuMs: number;
  byKind: Record<string, { count: number; rssMiB: number; pssMiB: number; cpuSeconds: number }>;
}

async function measure(stateDir: string, offset: number): Promise<Sample> {
  const started = performance.now();
  const launcher = spawn(
    process.execPath,
    [
      ...startCommand(),
      `--port-offset=${offset}`,
      `--state-dir=${stateDir}`,
      ...(values.only ? [`--only=${values.only}`] : []),
    ],
    {
      cwd: repo,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(values['child-node-flags'] ? { QUIZMESH_CHILD_NODE_FLAGS: values['child-node-flags'] } : {}),
      },
    },
  );
  let output = '';
  launcher.stdout.on('data', (c: Buffer) => (output += c.toString()));
  launcher.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((r) => launcher.once('exit', r));
  while (!output.includes('Gateway: http://')) {
    if (launcher.exitCode !== null || performance.now() - started > 300_000) {
      launcher.kill('SIGKILL');
      throw new Error(`npm start did not come up:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const startSeconds = (performance.now() - started) / 1000;
  // Let the first requests' lazy work settle, as a developer's first look would.
  await new Promise((r) => setTimeout(r, 3_000));
  const pid = launcher.pid as number;
  const byKind: Sample['byKind'] = {};
  let rss = 0;
  let pss = 0;
  let cpu = 0;
  const procs = tree(pid);
  for (const p of procs) {
    const r = kiB(`/proc/${p.pid}/status`, 'VmRSS');
    const s = kiB(`/proc/${p.pid}/smaps_rollup`, 'Pss');
    const c = cpuSeconds(p.pid);
    rss += r;
    pss += s;
    cpu += c;
    const entry = (byKind[kind(p, pid)] ??= { count: 0, rssMiB: 0, pssMiB: 0, cpuSeconds: 0 });
    entry.count += 1;
    entry.rssMiB += r / 1024;
    entry.pssMiB += s / 1024;
    entry.cpuSeconds += c;
  }
  for (const entry of Object.values(byKind)) {
    entry.rssMiB = Math.round(entry.rssMiB);
    entry.pssMiB = Math.round(entry.pssMiB);
    entry.cpuSeconds = Math.round(entry.cpuSeconds * 10) / 10;
  }
  const gatewayUrl = /Gateway: (http:\/\/\S+)/.exec(output)?.[1] as string;
  const steadyCpuMs = await cpuPerStatusRequest(gatewayUrl, procs);
  process.kill(-pid, 'SIGINT');
  await exited;
  // Wait for the children to go before the next run takes the same ports.
  const deadline = Date.now() + 20_000;
  while (procs.some((p) => existsSync(`/proc/${p.pid}`)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  return {
    startSeconds: Math.round(startSeconds * 10) / 10,
    processes: procs.length,
    rssMiB: Math.round(rss / 1024),
    pssMiB: Math.round(pss / 1024),
    cpuSeconds: Math.round(cpu * 10) / 10,
    statusRequestCpuMs: steadyCpuMs,
    byKind,
  };
}

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'quizmesh-footprint-'));
  const offset = await freeOffset();
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const sample = await measure(stateDir, offset);
      samples.push(sample);
      console.log(
        `${values.label} run ${i + 1} (${i === 0 ? 'fresh state dir' : 'data kept'}): banner after ${sample.startSeconds} s, ` +
          `${sample.processes} processes, RSS ${sample.rssMiB} MiB, PSS ${sample.pssMiB} MiB, CPU ${sample.cpuSeconds} s; ` +
          `then ${sample.statusRequestCpuMs} ms CPU per GET /api/v1/status`,
      );
      for (const [name, k] of Object.entries(sample.byKind).sort((a, b) => b[1].pssMiB - a[1].pssMiB))
        console.log(
          `  ${name.padEnd(20)} ×${String(k.count).padEnd(3)} RSS ${k.rssMiB} MiB  PSS ${k.pssMiB} MiB  CPU ${k.cpuSeconds} s`,
        );
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  mkdirSync(join(__dirname, '..', 'results'), { recursive: true });
  const previous = existsSync(resultFile)
    ? (JSON.parse(readFileSync(resultFile, 'utf8')) as { runs?: Record<string, unknown> })
    : {};
  const result = {
    bench: 'start/footprint',
    description:
      'npm start (embedded backends, all services): seconds to the banner; RSS, PSS and CPU seconds (since launch) of the whole process tree 3 s after it, per process kind. Run 1 on a fresh state dir, run 2 with its data kept. Labels: before = the checkout before decision 0880, previous = the figures decision 0860 committed (5 services), after = this checkout.',
    runs: {
      ...previous.runs,
      [values.label]: {
        measuredAt: new Date().toISOString(),
        commit: readHead(repo),
        only: values.only ?? 'all services',
        ...(values['child-node-flags'] ? { childNodeFlags: values['child-node-flags'] } : {}),
        machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverage1m: loadavg()[0] },
        samples,
      },
    },
  };
  writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${resultFile}`);
  printComparison(result.runs as Record<string, { samples: Sample[] }>);
}

/** Second (warm) start of every label side by side, per kind: RSS / PSS MiB. */
function printComparison(labelled: Record<string, { samples: Sample[] }>) {
  const labels = Object.keys(labelled).filter((l) => labelled[l]?.samples[1]);
  const warm = (label: string) => labelled[label]?.samples[1] as Sample;
  const kinds = [...new Set(labels.flatMap((l) => Object.keys(warm(l).byKind)))].sort();
  console.log(`\nwarm start, RSS/PSS MiB: ${labels.join(' | ')}`);
  for (const name of kinds) {
    const cells = labels.map((l) => {
      const k = warm(l).byKind[name];
      return k ? `×${k.count} ${k.rssMiB}/${k.pssMiB}` : '-';
    });
    console.log(`  ${name.padEnd(20)} ${cells.join(' | ')}`);
  }
  const totals = labels.map((l) => `${warm(l).rssMiB}/${warm(l).pssMiB} in ${warm(l).startSeconds} s`);
  console.log(`  ${'whole tree'.padEnd(20)} ${totals.join(' | ')}`);
}

function readHead(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
