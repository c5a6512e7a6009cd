/**
 * The pieces every service's in-process test harness needs (services/<svc>/test/harness.ts):
 * its database on either backend, an app port that also captures what the service publishes,
 * its log lines, and cleanups that run in reverse order. The sidecar is the harness's own (it
 * differs per service); the service is built by its composition root (`create<Service>`), as in
 * production, with `TEST_RELAY_TUNING`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { OutboxRelayTuning } from '../outbox';
import { createTestDatabase } from './backends';

/** The outbox relay of a service under test: polls and retries fast, so tests wait milliseconds. */
export const TEST_RELAY_TUNING: OutboxRelayTuning = { intervalMs: 50, backoff: { baseMs: 50, maxMs: 500 } };

export type TestBackend = 'postgres' | 'embedded';

export interface ServiceTestDatabase {
  url: string;
  close(): Promise<void>;
}

const EMBEDDED_POSTGRES_BIN = join(__dirname, '..', '..', 'bin', 'quizmesh-embedded-postgres.cjs');

/**
 * `quizmesh-embedded-postgres` (a real PostgreSQL cluster) in a child process, as the launcher runs
 * it. `close()` stops it and resolves with its exit code.
 */
export async function startEmbeddedPostgresProcess(
  dataDir: string,
): Promise<{ url: string; close(): Promise<number | null> }> {
  const child = spawn(process.execPath, [EMBEDDED_POSTGRES_BIN, '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const readyLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) =>
      reject(new Error(`quizmesh-embedded-postgres exited with ${code} before ready: ${stderr}`)),
    );
  });
  const close = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  const url = /^quizmesh-embedded-postgres: ready url=(postgresql:\/\/\S+)$/.exec(readyLine)?.[1];
  if (!url) {
    await close();
    throw new Error(`unexpected first line from quizmesh-embedded-postgres: ${readyLine}`);
  }
  return { url, close };
}

/** A fresh database: on the machine's PostgreSQL (dropped on close) or an embedded cluster under `dir`. */
export async function createServiceTestDatabase(
  backend: TestBackend,
  options: { prefix: string; dir: string },
): Promise<ServiceTestDatabase> {
  if (backend === 'postgres') {
    const db = await createTestDatabase(options.prefix);
    return { url: db.url, close: () => db.drop() };
  }
  const embedded = await startEmbeddedPostgresProcess(join(options.dir, 'postgres'));
  return { url: embedded.url, close: async () => void (await embedded.close()) };
}

/** Cleanups registered while a harness starts, run last-first by `run()` (also after a failed start). */
export class Cleanups {
  private readonly steps: Array<() => Promise<void> | void> = [];

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step();
  }
}

export interface CapturedDelivery {
  /** the path the sidecar delivered to */
  path: string;
  /** the CloudEvent as delivered */
  event: Record<string, unknown> & { data?: unknown; topic?: unknown };
}

export interface AppPort {
  port: number;
  url: string;
  /** the service's app, once built (until then requests answer 503, as an app still starting) */
  setHandler(handler: http.RequestListener): void;
  close(): Promise<void>;
}

/**
 * The port the sidecar calls as the app. POSTs to `capturePaths` are recorded (test
 * subscriptions to what the service publishes) and answered with `answer(delivery)` (default
 * SUCCESS); everything else goes to the service's app.
 */
export async function startAppPort(options: {
  capturePaths: readonly string[];
  onCapture: (delivery: CapturedDelivery) => void;
  answer?: (delivery: CapturedDelivery) => 'SUCCESS' | 'RETRY' | 'DROP';
}): Promise<AppPort> {
  let handler: http.RequestListener = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    if (req.method === 'POST' && options.capturePaths.includes(path)) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const delivery = {
          path,
          event: JSON.parse(Buffer.concat(chunks).toString('utf8')) as CapturedDelivery['event'],
        };
        options.onCapture(delivery);
        const status = options.answer?.(delivery) ?? 'SUCCESS';
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      });
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setHandler(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A pino destination that keeps every line (ServiceRuntime's `logDestination`). */
export function captureLogLines(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}
