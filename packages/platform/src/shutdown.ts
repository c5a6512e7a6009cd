/**
 * Graceful shutdown: on SIGTERM/SIGINT stop accepting connections, let in-flight requests
 * finish, then close consumers, database and telemetry in reverse start order, and exit 0.
 * If the deadline passes first, exit 1 so the orchestrator knows the drain was cut short.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';

export type Cleanup = { name: string; close: () => Promise<void> | void };

export interface GracefulShutdownOptions {
  logger: Logger;
  timeoutMs: number;
  /** called with the exit code; tests replace process.exit */
  exit?: (code: number) => void;
}

export class GracefulShutdown {
  private readonly servers: Server[] = [];
  private readonly cleanups: Cleanup[] = [];
  private drainingSince: number | undefined;
  private done: Promise<number> | undefined;

  constructor(private readonly options: GracefulShutdownOptions) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  addServer(server: Server): this {
    this.servers.push(server);
    return this;
  }

  /** Registered cleanups run after the servers have drained, last registered first. */
  onShutdown(name: string, close: Cleanup['close']): this {
    this.cleanups.push({ name, close });
    return this;
  }

  /** Installs SIGTERM/SIGINT handlers (once). */
  handleSignals(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): this {
    for (const signal of signals) {
      process.once(signal, () => {
        this.options.logger.info({ signal }, 'shutdown requested');
        void this.shutdown();
      });
    }
    return this;
  }

  /** Runs the shutdown once; resolves with the exit code it passed to `exit`. */
  shutdown(): Promise<number> {
    this.done ??= this.run();
    return this.done;
  }

  private async run(): Promise<number> {
    const { logger, timeoutMs } = this.options;
    this.drainingSince = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    const work = (async () => {
      await Promise.all(this.servers.map((s) => closeServer(s)));
      for (const cleanup of [...this.cleanups].reverse()) {
        try {
          await cleanup.close();
        } catch (err) {
          logger.error({ err, cleanup: cleanup.name }, 'cleanup failed during shutdown');
        }
      }
      return 'done' as const;
    })();
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    const code = outcome === 'done' ? 0 : 1;
    if (code === 0) logger.info({ ms: Date.now() - this.drainingSince }, 'shutdown complete');
    else logger.error({ timeoutMs }, 'shutdown deadline passed; exiting with in-flight work');
    logger.flush?.();
    (this.options.exit ?? ((c: number) => process.exit(c)))(code);
    return code;
  }
}

/** Stops accepting, closes idle keep-alive sockets now and busy ones when their response ends. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
    // A kept-alive socket that finishes its in-flight response is closed by the drain guard's
    // `Connection: close`; sockets idle after that are swept periodically until close() resolves.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
  });
}
