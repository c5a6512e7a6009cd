/**
 * quizmesh-migrate [deploy] --schema services/<svc>/prisma/schema.prisma [--wait-seconds 60]   (reads DATABASE_URL)
 * quizmesh-migrate diff --schema services/<svc>/prisma/schema.prisma --name <migration_name>
 *
 * `deploy` applies pending migrations like `prisma migrate deploy`; `diff` writes a new
 * migration folder from the schema (replaces `prisma migrate dev --create-only`).
 * `deploy` waits up to --wait-seconds (default 60, or QUIZMESH_MIGRATE_WAIT_SECONDS) for a
 * database that is not up yet, logging one line per retry: a Kubernetes Job often starts first.
 * Exit codes: 0 success, 1 failure, 2 usage error. Errors are one line on stderr.
 */
import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { applyMigrations, createMigration } from '../migrations';

/** CLI output goes to stdout; diagnostics go to stderr. */
function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

const USAGE = `usage:
  quizmesh-migrate [deploy] --schema <path/to/schema.prisma> [--wait-seconds <s>] [--verbose]     (reads DATABASE_URL)
  quizmesh-migrate diff --schema <path/to/schema.prisma> --name <migration_name> [--verbose]`;

class UsageError extends Error {}

function target(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the database';
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      schema: { type: 'string' },
      name: { type: 'string' },
      'wait-seconds': { type: 'string', default: process.env.QUIZMESH_MIGRATE_WAIT_SECONDS ?? '60' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    printLine(USAGE);
    return;
  }
  const [command = 'deploy', ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(' ')}`);
  if (!values.schema) throw new UsageError('--schema is required');
  const onLog = values.verbose ? (line: string) => console.error(line) : undefined;

  if (command === 'deploy') {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new UsageError('DATABASE_URL is not set');
    const waitSeconds = Number(values['wait-seconds']);
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
      throw new UsageError(`--wait-seconds must be a number of seconds >= 0, got "${values['wait-seconds']}"`);
    }
    const { appliedMigrationNames } = await applyMigrations({
      schemaPath: values.schema,
      databaseUrl,
      waitForDatabaseMs: waitSeconds * 1000,
      onWait: (line) => console.error(`quizmesh-migrate: ${line}`),
      ...(onLog ? { onLog } : {}),
    });
    printLine(
      appliedMigrationNames.length === 0
        ? `quizmesh-migrate: ${target(databaseUrl)} is up to date`
        : `quizmesh-migrate: applied ${appliedMigrationNames.length} migration(s) to ${target(databaseUrl)}: ${appliedMigrationNames.join(', ')}`,
    );
    return;
  }
  if (command === 'diff') {
    if (!values.name) throw new UsageError('diff needs --name <migration_name>');
    const result = await createMigration({ schemaPath: values.schema, name: values.name, ...(onLog ? { onLog } : {}) });
    printLine(
      result.created
        ? `quizmesh-migrate: wrote ${relative(process.cwd(), result.migrationPath)}/migration.sql`
        : 'quizmesh-migrate: no changes: the schema matches the migrations',
    );
    return;
  }
  throw new UsageError(`unknown command "${command}"`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const usage =
    error instanceof UsageError ||
    (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
  console.error(`quizmesh-migrate: error: ${message}`);
  if (usage) console.error(USAGE);
  process.exitCode = usage ? 2 : 1;
});
