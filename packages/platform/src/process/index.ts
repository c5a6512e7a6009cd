/**
 * Whether a process (or a process group) still runs, for files that name their owner by pid:
 * lock files, the invocation registry, the local broker's peers, the launcher's pid file, port
 * leases.
 *
 * A process that exited stays in the process table as a zombie until its parent reaps it, and
 * signal 0 still reaches a zombie. A process whose parent died first is reaped by whatever
 * adopts it, and container inits do that late or never (here, PID 1 took about 2 s). So a
 * SIGKILLed launcher's children, already exited, would keep their locks and ports "taken".
 * On Linux a zombie therefore counts as gone.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** State letter and process group from /proc/<pid>/stat; undefined where /proc is missing (macOS) or the pid is gone. */
function procStat(pid: number | string): { state: string; group: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
  const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: state ?? '', group: Number(group) };
}

/** Exited but not yet reaped (Z), or being torn down (X). */
const DEAD_STATES = new Set(['Z', 'X']);

/** Whether `pid` runs: signal 0 reaches it (EPERM: it exists under another user) and it is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  return stat === undefined || !DEAD_STATES.has(stat.state);
}

/**
 * Whether any process of the group `pgid` runs, zombies aside. Without /proc, whether signal 0
 * reaches the group.
 */
export function isProcessGroupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = procStat(entry);
    if (stat !== undefined && stat.group === pgid && !DEAD_STATES.has(stat.state)) return true;
  }
  return false;
}
