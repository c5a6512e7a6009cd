/** Runs a schema-engine task in a worker thread (why a worker: see schema-engine-worker.ts). */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SchemaEngineTask, SchemaEngineWorkerMessage } from './schema-engine-protocol';

export class SchemaEngineError extends Error {
  constructor(
    message: string,
    /** Prisma error code such as P3009 when the engine reported one. */
    readonly code: string | undefined,
    /** The engine's full report, including its span trace. */
    readonly details: string,
  ) {
    super(message);
    this.name = 'SchemaEngineError';
  }
}

/**
 * From TypeScript sources (tsx, jest) the worker registers tsx's require hook first; from
 * compiled dist/ it loads the emitted .js directly.
 */
function workerBootstrap(): string {
  const ext = extname(__filename);
  const workerFile = join(__dirname, `schema-engine-worker${ext}`);
  const register = ext === '.ts' ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
  return `${register}require(${JSON.stringify(workerFile)});`;
}

export function runSchemaEngineTask(task: SchemaEngineTask, onLog?: (line: string) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerBootstrap(), { eval: true, workerData: task });
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      action();
      // The engine leaves a 10 s advisory-lock timer running that it never clears; the worker
      // has already closed its connections when it answers, so stop it right away.
      void worker.terminate();
    };
    worker.on('message', (message: SchemaEngineWorkerMessage) => {
      if (message.type === 'log') onLog?.(message.line);
      else if (message.type === 'result') settle(() => resolve(message.result));
      else {
        const { message: text, code, stack } = message.error;
        settle(() => reject(new SchemaEngineError(text, code, stack ?? text)));
      }
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (exitCode) =>
      settle(() =>
        reject(
          new SchemaEngineError(`schema engine worker exited with code ${exitCode} before answering`, undefined, ''),
        ),
      ),
    );
  });
}
