'use strict';
/**
 * Preloaded (`node --require`) into every Node process the launcher starts: if the launcher dies
 * (SIGKILL included, when it cannot stop anything), this process stops itself, so no app,
 * sidecar or database outlives it and the next `npm start` finds its ports free. Linux's
 * prctl(PR_SET_PDEATHSIG) is not reachable from Node and macOS has none, so we poll the parent
 * pid: an orphan is re-parented (to init or a subreaper) and its ppid changes. See
 * docs/decisions/0861-children-watch-the-launcher.md.
 *
 * Active only with QUIZMESH_PARENT_PID set (the launcher's pid), which is removed from the
 * environment at once so that processes this one starts do not watch the wrong parent.
 */
const expected = Number(process.env.QUIZMESH_PARENT_PID);
delete process.env.QUIZMESH_PARENT_PID;

const POLL_MS = 500;
/** time for the process's own SIGTERM handling (drain, stop PostgreSQL) before a hard exit */
const GRACE_MS = 5_000;

if (Number.isInteger(expected) && expected > 0) {
  const orphaned = () => {
    clearInterval(timer);
    process.stderr.write(`parent-watch: launcher (pid ${expected}) is gone; stopping\n`);
    setTimeout(() => process.exit(1), GRACE_MS).unref();
    // As the launcher would: SIGTERM to this process's group (anything it started goes too).
    try {
      process.kill(-process.pid, 'SIGTERM');
    } catch {
      process.kill(process.pid, 'SIGTERM');
    }
  };
  const timer = setInterval(() => {
    if (process.ppid !== expected) orphaned();
  }, POLL_MS);
  timer.unref();
  if (process.ppid !== expected) orphaned();
}
