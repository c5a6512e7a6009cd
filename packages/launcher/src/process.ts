/** A child process the launcher owns: its own process group, logs to a file, last lines kept. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export const KEPT_LINES = 40;

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  /**
   * 'stdin': stdin is a pipe only the launcher writes to, closed by the kernel when the launcher
   * dies (SIGKILL too), for a child that is not Node and so has no parent-watch.cjs.
   */
  watchLauncher?: 'stdin';
  uid?: number;
  gid?: number;
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private readonly tail: string[] = [];
  private partial = '';
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private resolveExit: (info: { code: number | null; signal: NodeJS.Signals | null }) => void = () => undefined;

  constructor(readonly spec: ProcessSpec) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    this.log = createWriteStream(this.spec.logFile, { flags: 'a' });
    // detached: its own process group, so Ctrl-C reaches only the launcher, which then stops
    // the children in order, and a group kill also reaches anything the child spawned.
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      detached: true,
      stdio: [this.spec.watchLauncher === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(this.spec.uid !== undefined ? { uid: this.spec.uid } : {}),
      ...(this.spec.gid !== undefined ? { gid: this.spec.gid } : {}),
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      this.log?.write(chunk);
      const text = this.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        this.tail.push(line);
        if (this.tail.length > KEPT_LINES) this.tail.shift();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (err) => {
      this.tail.push(`launcher: could not start ${this.spec.command}: ${err.message}`);
      this.finish({ code: 127, signal: null });
    });
    child.on('exit', (code, signal) => this.finish({ code, signal }));
    // The log ends once the pipes have closed, not at 'exit': output still in a pipe arrives after
    // 'exit', and a write after end() throws in the launcher.
    child.on('close', () => this.log?.end());
    return this;
  }

  private finish(info: { code: number | null; signal: NodeJS.Signals | null }) {
    if (this.exitInfo) return;
    if (this.partial) this.tail.push(this.partial);
    this.exitInfo = info;
    this.resolveExit(info);
  }

  lastLines(count = 15): string[] {
    return this.tail.slice(-count);
  }

  /** SIGKILL to the group at once (a crash, no drain). Resolves when the process has exited. */
  async kill(): Promise<void> {
    if (!this.child?.pid || this.exitInfo) return;
    signalGroup(this.child.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`. Resolves when the process has exited. */
  async stop(graceMs: number): Promise<void> {
    if (!this.child?.pid || this.exitInfo) return;
    signalGroup(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.child?.pid) signalGroup(this.child.pid, 'SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
    // Anything the child left in its group goes too.
    signalGroup(this.child.pid, 'SIGKILL');
  }
}

export function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}
