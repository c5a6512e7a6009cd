/**
 * What `npm start` costs a developer: time from launch to the banner, and RSS and PSS of the
 * whole process tree at ready, per kind of process (apps, sidecars, databases, tsx's esbuild…).
 * Two starts on one fresh state dir: the first makes the databases, the second finds them.
 *
 *   npm run bench -- start                       (this checkout, label "after")
 *   node --import tsx bench/start/footprint.bench.ts --repo=/path/to/other/checkout --label=before \
 *     [--only=identity,quiz,evaluation,notification]
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
  byKind: Record<string, { count: number; rssMiB: number; pssMiB: number }>;
}

async function measure(stateDir: string, offset: number): Promise<Sample> {
  const started = performance.now();
  const launcher = spawn(
    process.execPath,
    [
      '--conditions=@quizmesh/source',
      '--import',
      'tsx',
      'packages/launcher/src/main.ts',
      `--port-offset=${offset}`,
      `--state-dir=${stateDir}`,
      ...(values.only ? [`--only=${values.only}`] : []),
    ],
    { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
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
  const procs = tree(pid);
  for (const p of procs) {
    const r = kiB(`/proc/${p.pid}/status`, 'VmRSS');
    const s = kiB(`/proc/${p.pid}/smaps_rollup`, 'Pss');
    rss += r;
    pss += s;
    const entry = (byKind[kind(p, pid)] ??= { count: 0, rssMiB: 0, pssMiB: 0 });
    entry.count += 1;
    entry.rssMiB += r / 1024;
    entry.pssMiB += s / 1024;
  }
  for (const entry of Object.values(byKind)) {
    entry.rssMiB = Math.round(entry.rssMiB);
    entry.pssMiB = Math.round(entry.pssMiB);
  }
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
          `${sample.processes} processes, RSS ${sample.rssMiB} MiB, PSS ${sample.pssMiB} MiB`,
      );
      for (const [name, k] of Object.entries(sample.byKind).sort((a, b) => b[1].pssMiB - a[1].pssMiB))
        console.log(`  ${name.padEnd(20)} ×${String(k.count).padEnd(3)} RSS ${k.rssMiB} MiB  PSS ${k.pssMiB} MiB`);
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
      'npm start (embedded backends, all services): seconds to the banner; RSS and PSS of the whole process tree 3 s after it, per process kind. Run 1 on a fresh state dir, run 2 with its data kept.',
    runs: {
      ...previous.runs,
      [values.label]: {
        measuredAt: new Date().toISOString(),
        commit: readHead(repo),
        only: values.only ?? 'all services',
        machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverage1m: loadavg()[0] },
        samples,
      },
    },
  };
  writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${resultFile}`);
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
