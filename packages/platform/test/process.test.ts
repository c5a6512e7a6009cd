/**
 * isProcessAlive / isProcessGroupAlive against real processes, zombies included: a process that
 * exited but was not reaped still takes signal 0, and must count as gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isProcessAlive, isProcessGroupAlive } from '../src/process';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A short-lived process whose parent never reaps it: the shell starts it, then becomes
 * `sleep 60` (exec), which never waits. `setsid` makes it lead its own process group.
 * Answers its pid once it is a zombie.
 */
async function zombie(ownGroup: boolean): Promise<number> {
  const child = spawn('sh', ['-c', `${ownGroup ? 'setsid ' : ''}sleep 0.1 & echo $!; exec sleep 60`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const pid = await new Promise<number>((resolve) =>
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  await until(`process ${pid} to become a zombie`, () => stateOf(pid) === 'Z');
  return pid;
}

test('a running process is alive, under another user too (EPERM); an unused pid is not', () => {
  expect(isProcessAlive(process.pid)).toBe(true);
  expect(isProcessAlive(1)).toBe(true);
  expect(isProcessAlive(0)).toBe(false);
  expect(isProcessAlive(-1)).toBe(false);
  expect(isProcessAlive(2 ** 22 + 1)).toBe(false);
});

test('a zombie is not alive, although signal 0 still reaches it', async () => {
  const pid = await zombie(false);
  expect(() => process.kill(pid, 0)).not.toThrow();
  expect(isProcessAlive(pid)).toBe(false);
});

test('a process group whose only member is a zombie is not alive; one with a running member is', async () => {
  const leader = await zombie(true);
  expect(() => process.kill(-leader, 0)).not.toThrow();
  expect(isProcessGroupAlive(leader)).toBe(false);

  const running = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  children.push(running);
  expect(isProcessGroupAlive(running.pid as number)).toBe(true);
  running.kill('SIGKILL');
  await until('the killed group to be gone', () => !isProcessGroupAlive(running.pid as number));
});
