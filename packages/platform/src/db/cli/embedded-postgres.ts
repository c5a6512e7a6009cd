/**
 * quizmesh-embedded-postgres --data-dir .quizmesh/pglite/<service> [--port 0]
 *
 * Serves one PGlite database on a loopback port until SIGINT/SIGTERM. Prints one line when
 * ready, which launchers wait for:
 *   quizmesh-embedded-postgres: ready url=postgresql://postgres@127.0.0.1:<port>/postgres
 */
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from '../embedded-postgres';

/** CLI output goes to stdout; diagnostics go to stderr. */
function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

const USAGE = 'usage: quizmesh-embedded-postgres --data-dir <dir> [--port <port>] [--host 127.0.0.1]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const dataDir = values['data-dir'];
  const port = Number(values.port);
  if (!dataDir || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `quizmesh-embedded-postgres: error: ${dataDir ? `invalid --port ${values.port}` : '--data-dir is required'}`,
    );
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const server = await startEmbeddedPostgres({ dataDir, port, host: values.host });
  printLine(`quizmesh-embedded-postgres: ready url=${server.url}`);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`quizmesh-embedded-postgres: error while closing: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`quizmesh-embedded-postgres: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
