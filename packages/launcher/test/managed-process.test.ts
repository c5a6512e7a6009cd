/**
 * ManagedProcess keeps a child's whole output in its log file, also what arrives after the
 * child's 'exit': from a process of its group that still holds the pipe (PostgreSQL's workers
 * under their supervisor, a shell's background job), or simply still buffered in the pipe. Writing
 * that to an ended log stream threw "write after end" in the launcher (a CI run failed on it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../src/process';

const dir = mkdtempSync(join(tmpdir(), 'qm-managed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('logs what a process of the group writes after the child itself exited, with no error', async () => {
  const errors: unknown[] = [];
  const onError = (err: unknown) => errors.push(err);
  process.on('uncaughtException', onError);
  try {
    const logFile = join(dir, 'child.log');
    const child = new ManagedProcess({
      name: 'shell',
      command: 'sh',
      // The background job keeps stdout open and writes 300 ms after the shell has exited.
      args: ['-c', 'echo first; (sleep 0.3; echo late) & exit 0'],
      env: process.env,
      cwd: dir,
      logFile,
    }).start();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(readFileSync(logFile, 'utf8')).toBe('first\nlate\n');
    expect(child.lastLines()).toEqual(['first', 'late']);
  } finally {
    process.off('uncaughtException', onError);
  }
  expect(errors).toEqual([]);
});
