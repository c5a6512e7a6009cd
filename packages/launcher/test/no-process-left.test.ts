/**
 * `npm start` as a user runs it (its own process group, as a terminal gives it): a closed
 * terminal, `kill`, Ctrl-C and a SIGKILL of the launcher alone each leave no process behind
 * within 10 s, and the next start on the same ports and state dir works.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Launcher, LaunchError } from '../src';

const repoRoot = resolve(__dirname, '..', '..', '..');
const GONE_WITHIN_MS = 10_000;

/** Every process's parent, from /proc (Linux). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(entry), ppid);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** The pid and every process below it: apps, sidecars, PostgreSQL and its backends, tsx's esbuild. */
function processTree(root: number): number[] {
  const byParent = parents();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of byParent) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

function alive(pids: number[]): string[] {
  return pids.flatMap((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return []; // exited, not yet reaped
      return [`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 160)}`];
    } catch {
      return [];
    }
  });
}

async function waitUntilGone(pids: number[]): Promise<string[]> {
  const deadline = Date.now() + GONE_WITHIN_MS;
  while (alive(pids).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return alive(pids);
}

interface Run {
  launcher: ChildProcess;
  output: () => string;
}

/** The node arguments of the root package.json's `start` script. */
function startScriptArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = pkg.scripts.start.split(/\s+/);
  if (command !== 'node') throw new Error(`npm start is not a node command: ${pkg.scripts.start}`);
  return args;
}

/** `npm start -- --only=identity` in a process group of its own; resolves at the banner. */
async function start(stateDir: string, portOffset: number): Promise<Run> {
  const launcher = spawn(
    process.execPath,
    [
      // exactly what `npm start` runs (the root package.json's script), without npm in between
      ...startScriptArgs(),
      '--only=identity',
      `--port-offset=${portOffset}`,
      `--state-dir=${stateDir}`,
    ],
    { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  launcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  launcher.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((r) => launcher.once('exit', r));
  const deadline = Date.now() + 120_000;
  while (!output.includes('Gateway: http://')) {
    if (launcher.exitCode !== null || launcher.signalCode !== null || Date.now() > deadline) {
      launcher.kill('SIGKILL');
      await exited;
      throw new Error(`npm start did not come up:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { launcher, output: () => output };
}

/** A free block of ports for this test's fixed offset (apps 3001…, sidecars 3500…, PostgreSQL 5440, gateway 8080). */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 1_000 + 100 * Math.floor(Math.random() * 150);
    const ports = [3001, 3002, 3003, 3004, 3500, 3501, 3502, 3503, 3504, 5440, 8080].map((p) => p + offset);
    const held: Server[] = [];
    let free = true;
    for (const port of ports) {
      const server = await new Promise<Server | undefined>((r) => {
        const probe = createServer();
        probe.once('error', () => r(undefined));
        probe.listen(port, '127.0.0.1', () => r(probe));
      });
      if (!server) free = false;
      else held.push(server);
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    if (free) return offset;
  }
  throw new Error('no free port block');
}

describe('npm start leaves no process behind', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'quizmesh-signals-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('stops the whole tree on SIGHUP, SIGTERM and SIGINT to its group and on SIGKILL of the launcher alone', async () => {
    const offset = await freeOffset();
    let run = await start(stateDir, offset);
    for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
      const pid = run.launcher.pid as number;
      const tree = processTree(pid);
      // launcher, identity + gateway apps and sidecars, the PostgreSQL supervisor, postmaster and its workers
      expect(tree.length).toBeGreaterThanOrEqual(8);
      process.kill(-pid, signal);
      expect({ signal, left: await waitUntilGone(tree) }).toEqual({ signal, left: [] });
      run = await start(stateDir, offset);
    }

    // SIGKILL of the launcher alone: it can stop nothing; its children stop themselves. Start
    // again at once: the new launcher cleans up what is left and waits for the ports.
    const killed = processTree(run.launcher.pid as number);
    process.kill(run.launcher.pid as number, 'SIGKILL');
    const killedAt = Date.now();
    run = await start(stateDir, offset);
    expect(await waitUntilGone(killed)).toEqual([]);
    expect(Date.now() - killedAt).toBeLessThan(GONE_WITHIN_MS + 120_000);

    const last = processTree(run.launcher.pid as number);
    process.kill(-(run.launcher.pid as number), 'SIGINT');
    expect(await waitUntilGone(last)).toEqual([]);
  }, 600_000);

  it('leaves no process within 10 s of a SIGKILL of the launcher alone, with no new start to clean up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quizmesh-orphans-'));
    const offset = await freeOffset();
    let run = await start(dir, offset);
    try {
      // apps and sidecars (each watching the launcher), the PostgreSQL supervisor and its watcher,
      // the postmaster, its workers and backends
      const tree = processTree(run.launcher.pid as number).filter((pid) => pid !== run.launcher.pid);
      expect(alive(tree).filter((p) => /postgres/.test(p)).length).toBeGreaterThanOrEqual(4);
      expect(alive(tree).filter((p) => /parent-watch/.test(p)).length).toBeGreaterThanOrEqual(4);
      process.kill(run.launcher.pid as number, 'SIGKILL');
      expect(await waitUntilGone(tree)).toEqual([]);
    } finally {
      // Whatever else is left goes with the next start's clean-up, then Ctrl-C.
      run = await start(dir, offset);
      const last = processTree(run.launcher.pid as number);
      process.kill(-(run.launcher.pid as number), 'SIGINT');
      await waitUntilGone(last);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('names a free --port-offset when a port is taken', async () => {
    const offset = await freeOffset();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(8080 + offset, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'quizmesh-port-hint-'));
    try {
      const launcher = new Launcher({
        repoRoot,
        backends: 'embedded',
        portOffset: offset,
        stateDir: dir,
        readyTimeoutMs: 30_000,
        only: [],
        out: () => undefined,
      });
      const error = await launcher.start().then(
        () => undefined,
        (err: unknown) => err,
      );
      await launcher.stop();
      expect(error).toBeInstanceOf(LaunchError);
      const hint = /port (\d+) is already in use .*--port-offset=(\d+) is free/.exec((error as Error).message);
      expect(hint?.[1]).toBe(String(8080 + offset));
      expect(Number(hint?.[2])).toBeGreaterThan(offset);
    } finally {
      await new Promise((r) => taken.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
