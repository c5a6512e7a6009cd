import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@quizmesh/platform/testing';
import { applyMigrations, createMigration, MigrationError } from '../src/db';
import {
  appliedMigrations,
  failingSchema,
  fixtureMigrations,
  fixtureSchema,
  publicTables,
  runCli,
  withPg,
} from './db-helpers';

describe('quizmesh-migrate on real PostgreSQL', () => {
  let database: TestDatabase;
  let failingDatabase: TestDatabase;
  let semicolonDatabase: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('qm_db_migrate');
    failingDatabase = await createTestDatabase('qm_db_failing');
    semicolonDatabase = await createTestDatabase('qm_db_semicolons');
  });
  afterAll(async () => {
    await database.drop();
    await failingDatabase.drop();
    await semicolonDatabase.drop();
  });

  it('creates the tables through the CLI and is a no-op the second time', async () => {
    const first = await runCli('quizmesh-migrate', ['--schema', fixtureSchema], { DATABASE_URL: database.url });
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain(
      `applied 2 migration(s) to 127.0.0.1:5432/${database.name}: ${fixtureMigrations.join(', ')}`,
    );

    const second = await runCli('quizmesh-migrate', ['deploy', '--schema', fixtureSchema], {
      DATABASE_URL: database.url,
    });
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toContain('is up to date');

    await withPg(database.url, async (client) => {
      expect(await appliedMigrations(client)).toEqual(fixtureMigrations.map((name) => ({ name, finished: true })));
      expect(await publicTables(client)).toEqual(['Item', 'Tag', '_prisma_migrations']);
    });
  });

  it('names the failing migration and keeps the earlier ones applied', async () => {
    const failure = await applyMigrations({ schemaPath: failingSchema, databaseUrl: failingDatabase.url }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(MigrationError);
    expect(failure).toMatchObject({ migrationName: '20250102000000_broken' });
    expect((failure as Error).message).toBe('migration 20250102000000_broken failed: No such table: MissingTable');

    await withPg(failingDatabase.url, async (client) => {
      expect(await appliedMigrations(client)).toEqual([
        { name: '20250101000000_create_note', finished: true },
        { name: '20250102000000_broken', finished: false },
      ]);
      expect(await publicTables(client)).toEqual(['Note', '_prisma_migrations']);
    });

    // A rerun refuses to continue past the failed migration, as `prisma migrate deploy` does.
    const rerun = await runCli('quizmesh-migrate', ['--schema', failingSchema], { DATABASE_URL: failingDatabase.url });
    expect(rerun.code).toBe(1);
    expect(rerun.stderr).toMatch(/^quizmesh-migrate: error: .*failed migrations.*20250102000000_broken/);
  });

  it('applies a script whose comments, strings and function bodies contain semicolons', async () => {
    const schemaPath = join(__dirname, 'fixtures', 'semicolons', 'schema.prisma');
    await applyMigrations({ schemaPath, databaseUrl: semicolonDatabase.url });
    await withPg(semicolonDatabase.url, async (client) => {
      expect(await appliedMigrations(client)).toEqual([{ name: '20250101000000_semicolons', finished: true }]);
      await client.query(`INSERT INTO "Note" ("id") VALUES (1)`);
      expect((await client.query(`SELECT "body" FROM "Note"`)).rows).toEqual([{ body: 'a; b' }]);
      await expect(client.query(`INSERT INTO "Note" ("id", "body") VALUES (2, ' ')`)).rejects.toThrow(
        'blank body; rejected',
      );
    });
  });

  it('explains a missing DATABASE_URL, an unreachable database and a missing schema', async () => {
    const noUrl = await runCli('quizmesh-migrate', ['--schema', fixtureSchema], { DATABASE_URL: undefined });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr.split('\n')[0]).toBe('quizmesh-migrate: error: DATABASE_URL is not set');

    const unreachable = await applyMigrations({
      schemaPath: fixtureSchema,
      databaseUrl: 'postgresql://postgres@127.0.0.1:1/nowhere',
    }).catch((e: unknown) => e);
    expect((unreachable as Error).message).toBe('cannot reach database 127.0.0.1:1/nowhere: ECONNREFUSED');

    const noSchema = await applyMigrations({
      schemaPath: '/nonexistent/schema.prisma',
      databaseUrl: database.url,
    }).catch((e: unknown) => e);
    expect((noSchema as Error).message).toBe('cannot read Prisma schema /nonexistent/schema.prisma: ENOENT');
  });
});

/** A port where nothing listens yet; `open()` later forwards it to the real PostgreSQL. */
async function lateDatabasePort(): Promise<{ port: number; open: () => Promise<void>; close: () => Promise<void> }> {
  const probe = createServer();
  await new Promise<void>((resolvePromise) => probe.listen(0, '127.0.0.1', resolvePromise));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolvePromise) => probe.close(() => resolvePromise()));
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    port,
    open: () =>
      new Promise<void>((resolvePromise) => {
        server = createServer((client) => {
          const upstream = connect(5432, '127.0.0.1');
          for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on('error', () => undefined);
          }
          client.pipe(upstream).pipe(client);
        });
        server.listen(port, '127.0.0.1', resolvePromise);
      }),
    close: () =>
      new Promise<void>((resolvePromise) => {
        for (const socket of sockets) socket.destroy();
        if (server) server.close(() => resolvePromise());
        else resolvePromise();
      }),
  };
}

describe('quizmesh-migrate waits for its database', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('qm_db_wait');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('retries while nothing listens, logs each wait, and migrates once the database comes up', async () => {
    const late = await lateDatabasePort();
    try {
      const url = new URL(database.url);
      url.host = `127.0.0.1:${late.port}`;
      const waits: string[] = [];
      const opened = new Promise<void>((resolvePromise) =>
        setTimeout(() => void late.open().then(resolvePromise), 1_500),
      );
      const result = await applyMigrations({
        schemaPath: fixtureSchema,
        databaseUrl: url.toString(),
        waitForDatabaseMs: 30_000,
        onWait: (line) => waits.push(line),
      });
      await opened;
      expect(result.appliedMigrationNames).toEqual(fixtureMigrations);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      expect(waits[0]).toMatch(
        new RegExp(
          `^waiting for database 127\\.0\\.0\\.1:${late.port}/qm_db_wait\\S* \\(ECONNREFUSED\\): attempt 1, retrying in 0\\.5 s`,
        ),
      );
    } finally {
      await late.close();
    }
  });

  it('gives up after its bound with the reason and the attempts', async () => {
    const late = await lateDatabasePort();
    const started = Date.now();
    const error = await applyMigrations({
      schemaPath: fixtureSchema,
      databaseUrl: `postgresql://postgres@127.0.0.1:${late.port}/nowhere`,
      waitForDatabaseMs: 2_000,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^cannot reach database 127\\.0\\.0\\.1:${late.port}/nowhere: ECONNREFUSED \\(gave up after [3-9] attempts in [2-4]\\.\\d s\\)$`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('does not wait for a database that answers with a permanent error', async () => {
    const started = Date.now();
    const url = new URL(database.url);
    url.pathname = '/qm_db_wait_does_not_exist';
    const error = await applyMigrations({
      schemaPath: fixtureSchema,
      databaseUrl: url.toString(),
      waitForDatabaseMs: 30_000,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('cannot reach database 127.0.0.1:5432/qm_db_wait_does_not_exist: 3D000');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the CLI logs the wait on stderr and fails after --wait-seconds', async () => {
    const late = await lateDatabasePort();
    const result = await runCli('quizmesh-migrate', ['--schema', fixtureSchema, '--wait-seconds', '1'], {
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${late.port}/nowhere`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `quizmesh-migrate: waiting for database 127.0.0.1:${late.port}/nowhere (ECONNREFUSED): attempt 1`,
    );
    expect(result.stderr).toMatch(
      /quizmesh-migrate: error: cannot reach database .*ECONNREFUSED \(gave up after \d+ attempts/,
    );
  });
});

// diff boots a throwaway PGlite per run: seconds when idle, more on a loaded 2-core CI machine.
jest.setTimeout(180_000);

describe('quizmesh-migrate diff', () => {
  let workDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'qm-diff-'));
  });
  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('writes a CREATE TABLE migration for a model the migrations do not have yet', async () => {
    await cp(fixtureSchema, join(workDir, 'schema.prisma'));
    await cp(
      join(fixtureSchema, '..', 'migrations', fixtureMigrations[0] ?? ''),
      join(workDir, 'migrations', fixtureMigrations[0] ?? ''),
      {
        recursive: true,
      },
    );
    await cp(
      join(fixtureSchema, '..', 'migrations', 'migration_lock.toml'),
      join(workDir, 'migrations', 'migration_lock.toml'),
    );

    const result = await runCli('quizmesh-migrate', [
      'diff',
      '--schema',
      join(workDir, 'schema.prisma'),
      '--name',
      'add_tags',
    ]);
    expect(result.code).toBe(0);
    const created = (await readdir(join(workDir, 'migrations'))).filter((name) => name.endsWith('_add_tags'));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/^\d{14}_add_tags$/);
    const sql = await readFile(join(workDir, 'migrations', created[0] ?? '', 'migration.sql'), 'utf8');
    expect(sql).toContain('CREATE TABLE "Tag"');
    expect(sql).not.toContain('CREATE TABLE "Item"');

    // The new folder makes the migrations match the schema: nothing more to write.
    const again = await createMigration({ schemaPath: join(workDir, 'schema.prisma'), name: 'nothing' });
    expect(again).toEqual({ created: false, reason: 'schema matches migrations' });
  });

  it('starts from an empty database when there are no migrations and writes the lock file', async () => {
    await cp(fixtureSchema, join(workDir, 'schema.prisma'));
    const result = await createMigration({
      schemaPath: join(workDir, 'schema.prisma'),
      name: 'init',
      now: new Date('2026-01-02T03:04:05Z'),
    });
    expect(result).toMatchObject({ created: true, migrationName: '20260102030405_init' });
    expect(result.created && result.sql).toContain('CREATE TABLE "Item"');
    expect(await readFile(join(workDir, 'migrations', 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );
  });

  it('rejects a migration name that is not a plain identifier, writing nothing', async () => {
    await cp(fixtureSchema, join(workDir, 'schema.prisma'));
    const result = await runCli('quizmesh-migrate', [
      'diff',
      '--schema',
      join(workDir, 'schema.prisma'),
      '--name',
      '../escape',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid migration name "../escape"');
    expect(await readdir(workDir)).toEqual(['schema.prisma']);
  });
});
