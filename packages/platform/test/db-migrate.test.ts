import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
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
