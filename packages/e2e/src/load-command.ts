/**
 * The command `npm run load` runs (node with the source condition and tsx on
 * packages/load/src/main.ts), as a child process: the load generator's own e2e test and the
 * metrics scenario both drive the platform with exactly what a user runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export interface LoadCommandRun<Summary> {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the JSON the command wrote to `out` */
  summary: Summary;
}

export interface LoadCommandOptions {
  args: string[];
  /** where the command writes its JSON summary (`--out`) */
  out: string;
  /** the author's password, passed the way a user does (QUIZMESH_LOAD_AUTHOR_PASSWORD) */
  authorPassword?: string;
  /** SIGINT once stdout matches this */
  interruptWhen?: RegExp;
}

/** Runs the command to its end; rejects when it wrote no summary. */
export function runLoadCommand<Summary>(options: LoadCommandOptions): Promise<LoadCommandRun<Summary>> {
  const { args, out, authorPassword, interruptWhen } = options;
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@quizmesh/source', '--import', 'tsx', 'packages/load/src/main.ts', ...args, '--out', out],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...(authorPassword ? { QUIZMESH_LOAD_AUTHOR_PASSWORD: authorPassword } : {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      try {
        done({ code, stdout, stderr, summary: JSON.parse(readFileSync(out, 'utf8')) as Summary });
      } catch (err) {
        fail(
          new Error(`npm run load wrote no summary (exit ${code}): ${(err as Error).message}\n${stdout}\n${stderr}`),
        );
      }
    });
  });
}
