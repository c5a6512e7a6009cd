/** `quizmesh-sidecar`: runs one sidecar until SIGINT/SIGTERM or `POST /v1.0/shutdown`. */
import { SidecarStartupError, errorMessage } from './errors';
import { parseSidecarArgs, USAGE } from './cli-args';
import { createLogger } from './logger';
import { startSidecar } from './sidecar';

export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseSidecarArgs(argv);
  } catch (err) {
    process.stderr.write(`quizmesh-sidecar: ${errorMessage(err)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const logger = createLogger(parsed.options.appId, parsed.options.logLevel ?? 'info');
  if (parsed.ignored.length > 0)
    logger.warn(
      { flags: parsed.ignored },
      'flags accepted for daprd compatibility have no effect in the local sidecar',
    );
  let sidecar;
  try {
    sidecar = await startSidecar({ ...parsed.options, logger, onShutdownRequest: () => process.exit(0) });
  } catch (err) {
    logger.fatal(
      { err: errorMessage(err), kind: err instanceof SidecarStartupError ? 'configuration' : 'runtime' },
      'sidecar failed to start',
    );
    // Let pino flush before exiting.
    setImmediate(() => process.exit(1));
    return;
  }
  const running = sidecar;
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    void running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // Started through the .cjs launcher: exit if the launcher dies without forwarding a signal.
  const parentPid = Number(process.env.QUIZMESH_SIDECAR_LAUNCHER_PID ?? '0');
  if (parentPid > 0) {
    setInterval(() => {
      if (process.ppid !== parentPid) stop('launcher exited');
    }, 1000).unref();
  }
}

if (require.main === module) void main(process.argv.slice(2));
