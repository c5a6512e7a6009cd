/** Shared helpers of the database tests: fixture paths, running the CLIs, inspecting schemas. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { startEmbeddedPostgresProcess } from '../src/testing';

const run = promisify(execFile);

export const fixtureSchema = join(__dirname, 'fixtures', 'prisma', 'schema.prisma');
export const failingSchema = join(__dirname, 'fixtures', 'failing', 'schema.prisma');
export const fixtureMigrations = ['20250101000000_init', '20250102000000_add_tags'];
const binDir = join(__dirname, '..', 'bin');

export function assertFixtureClientGenerated(): void {
  if (!existsSync(join(__dirname, 'fixtures', 'generated', 'prisma', 'client.ts'))) {
    throw new Error('fixture Prisma client missing: run `npm run generate -w @quizmesh/platform`');
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/<name>.cjs as a child process, exactly as a Kubernetes Job or npm script would. */
export async function runCli(
  name: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  try {
    const { stdout, stderr } = await run(process.execPath, [join(binDir, `${name}.cjs`), ...args], {
      env: childEnv,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

export async function withPg<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function appliedMigrations(client: Client): Promise<{ name: string; finished: boolean }[]> {
  const { rows } = await client.query<{ migration_name: string; finished: boolean }>(
    'SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name',
  );
  return rows.map((r) => ({ name: r.migration_name, finished: r.finished }));
}

export async function publicTables(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

export interface EmbeddedProcess {
  url: string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `quizmesh-embedded-postgres` as a child process, as the launcher runs it (platform/testing). */
export async function startEmbeddedProcess(dataDir: string): Promise<EmbeddedProcess> {
  const embedded = await startEmbeddedPostgresProcess(dataDir);
  return { url: embedded.url, stop: embedded.close };
}
