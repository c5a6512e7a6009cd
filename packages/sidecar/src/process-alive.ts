/**
 * Whether a process still exists, for files that name their owner by pid (the invocation
 * registry, the local broker's peers, a persisted state file's lock): signal 0 checks without
 * signalling; EPERM means it exists under another user.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
