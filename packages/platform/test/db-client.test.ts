import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '@quizmesh/platform/testing';
import {
  applyMigrations,
  checkDatabase,
  createPrismaClient,
  DatabaseConfigError,
  disconnectPrismaClient,
} from '../src/db';
import { PrismaClient } from './fixtures/generated/prisma/client';
import {
  appliedMigrations,
  assertFixtureClientGenerated,
  fixtureMigrations,
  fixtureSchema,
  publicTables,
  runCli,
  startEmbeddedProcess,
  withPg,
} from './db-helpers';

assertFixtureClientGenerated();

interface Backend {
  url: string;
  dispose(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'real PostgreSQL',
    async () => {
      const db = await createTestDatabase('qm_db_client');
      return { url: db.url, dispose: () => db.drop() };
    },
  ],
  [
    'embedded PostgreSQL',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'qm-pglite-'));
      const server = await startEmbeddedProcess(dataDir);
      return {
        url: server.url,
        async dispose() {
          expect(await server.stop()).toBe(0);
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  ],
];

// Starting an embedded PostgreSQL server and migrating it takes seconds idle, far more on a loaded
// 2-core CI machine (each run initialises a database): hooks get CI-sized time.
jest.setTimeout(180_000);

describe.each(backends)('Prisma client on %s', (_label, startBackend) => {
  let backend: Backend;
  let prisma: PrismaClient;

  beforeAll(async () => {
    backend = await startBackend();
    // The same command the Kubernetes migration Job and the launcher run.
    const migrate = await runCli('quizmesh-migrate', ['--schema', fixtureSchema], { DATABASE_URL: backend.url });
    expect(migrate.stderr).toBe('');
    expect(migrate.code).toBe(0);
    prisma = createPrismaClient(PrismaClient, { databaseUrl: backend.url, poolMax: 4 });
  });
  afterAll(async () => {
    await disconnectPrismaClient(prisma);
    await backend.dispose();
  });

  it('has the migrated tables, and a second migration run applies nothing', async () => {
    expect(await applyMigrations({ schemaPath: fixtureSchema, databaseUrl: backend.url })).toEqual({
      appliedMigrationNames: [],
    });
    await withPg(backend.url, async (client) => {
      expect(await appliedMigrations(client)).toEqual(fixtureMigrations.map((name) => ({ name, finished: true })));
      expect(await publicTables(client)).toEqual(['Item', 'Tag', '_prisma_migrations']);
    });
  });

  it('creates, reads, updates and deletes', async () => {
    const created = await prisma.item.create({
      data: { name: 'crud', quantity: 2, tags: { create: [{ label: 'a' }, { label: 'b' }] } },
    });
    const found = await prisma.item.findUnique({
      where: { id: created.id },
      include: { tags: { orderBy: { label: 'asc' } } },
    });
    expect(found).toMatchObject({ name: 'crud', quantity: 2, tags: [{ label: 'a' }, { label: 'b' }] });
    await prisma.item.update({ where: { id: created.id }, data: { quantity: { increment: 3 } } });
    expect(await prisma.item.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({ quantity: 5 });
    await prisma.item.delete({ where: { id: created.id } });
    expect(await prisma.item.findUnique({ where: { id: created.id } })).toBeNull();
    expect(await prisma.tag.count({ where: { itemId: created.id } })).toBe(0); // ON DELETE CASCADE
  });

  it('commits an interactive transaction and rolls back a failed one completely', async () => {
    await prisma.$transaction(async (tx) => {
      const item = await tx.item.create({ data: { name: 'tx-ok' } });
      await tx.tag.create({ data: { label: 'kept', itemId: item.id } });
    });
    expect(await prisma.item.findUnique({ where: { name: 'tx-ok' }, include: { tags: true } })).toMatchObject({
      tags: [{ label: 'kept' }],
    });

    const failure = prisma.$transaction(async (tx) => {
      await tx.item.create({ data: { name: 'tx-rolled-back' } });
      await tx.item.create({ data: { name: 'tx-ok' } }); // unique violation
    });
    await expect(failure).rejects.toMatchObject({ code: 'P2002' });
    expect(await prisma.item.findUnique({ where: { name: 'tx-rolled-back' } })).toBeNull();
  });

  it('serves concurrent queries and transactions from one pool', async () => {
    const items = await Promise.all(
      Array.from({ length: 20 }, (_, i) => prisma.item.create({ data: { name: `concurrent-${i}`, quantity: i } })),
    );
    const results = await Promise.all([
      ...items.map((item) => prisma.item.findUnique({ where: { id: item.id } })),
      ...items.slice(0, 8).map((item) =>
        prisma.$transaction(async (tx) => {
          const current = await tx.item.findUniqueOrThrow({ where: { id: item.id } });
          return tx.item.update({ where: { id: item.id }, data: { quantity: current.quantity + 100 } });
        }),
      ),
    ]);
    expect(results.slice(0, 20).map((r) => r?.name)).toEqual(items.map((i) => i.name));
    const updated = await prisma.item.findMany({
      where: { name: { startsWith: 'concurrent-' } },
      orderBy: { quantity: 'asc' },
    });
    expect(updated.filter((i) => i.quantity >= 100).map((i) => i.quantity)).toEqual([
      100, 101, 102, 103, 104, 105, 106, 107,
    ]);
  });

  it('reports readiness', async () => {
    expect(await checkDatabase(prisma)).toMatchObject({ ok: true });
  });
});

describe('embedded PostgreSQL server', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'qm-pglite-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps data across restarts and refuses a second server on the same data directory', async () => {
    const first = await startEmbeddedProcess(dataDir);
    try {
      await withPg(first.url, (c) => c.query("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"));
      const second = await runCli('quizmesh-embedded-postgres', ['--data-dir', dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/^quizmesh-embedded-postgres: error: data directory .* is in use by process \d+/);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const restarted = await startEmbeddedProcess(dataDir);
    try {
      expect(await withPg(restarted.url, (c) => c.query('SELECT v FROM kept').then((r) => r.rows))).toEqual([
        { v: 'still here' },
      ]);
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  });

  it('answers queries from many connections at once without mixing them up', async () => {
    const server = await startEmbeddedProcess(dataDir);
    try {
      // Six connections, each running its share one query after another (pg queues a query
      // sent while another runs, and will refuse it from pg 9 on).
      const clients = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const c = new Client({ connectionString: server.url });
          await c.connect();
          return c;
        }),
      );
      const answers: Array<{ n: number; s: string } | undefined> = [];
      // Unnamed extended-protocol statements from different connections must not interleave.
      await Promise.all(
        clients.map(async (c, k) => {
          for (let i = k; i < 120; i += clients.length) {
            const r = await c.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `s${i}`]);
            answers[i] = r.rows[0];
          }
        }),
      );
      expect(answers).toEqual(Array.from({ length: 120 }, (_, i) => ({ n: i, s: `s${i}` })));
      await Promise.all(clients.map((c) => c.end()));
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('rolls back the transaction of a client that vanishes mid-way and keeps serving the others', async () => {
    const server = await startEmbeddedProcess(dataDir);
    try {
      const gone = new Client({ connectionString: server.url });
      gone.on('error', () => undefined); // the dropped connection's own error
      await gone.connect();
      await gone.query('CREATE TABLE t (id int)');
      await gone.query('BEGIN');
      await gone.query('INSERT INTO t VALUES (1)');
      // A crash mid-transaction: the socket closes without COMMIT, ROLLBACK or Terminate.
      (gone as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();

      const next = new Client({ connectionString: server.url, query_timeout: 10_000 });
      await next.connect();
      try {
        expect((await next.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
        await next.query('BEGIN');
        await next.query('INSERT INTO t VALUES (2)');
        await next.query('COMMIT');
        expect((await next.query<{ id: number }>('SELECT id FROM t')).rows).toEqual([{ id: 2 }]);
      } finally {
        await next.end();
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('explains bad arguments', async () => {
    const result = await runCli('quizmesh-embedded-postgres', ['--port', '5432']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('quizmesh-embedded-postgres: error: --data-dir is required');
  });
});

describe('createPrismaClient and checkDatabase', () => {
  it('rejects a DATABASE_URL that is not a PostgreSQL URL', () => {
    expect(() => createPrismaClient(PrismaClient, { databaseUrl: 'mysql://x@y/z' })).toThrow(DatabaseConfigError);
    expect(() => createPrismaClient(PrismaClient, { databaseUrl: 'not a url' })).toThrow(
      'DATABASE_URL is not a valid URL',
    );
    expect(() => createPrismaClient(PrismaClient, { databaseUrl: 'postgresql://x@y/z', poolMax: 0 })).toThrow(
      'poolMax must be a positive integer',
    );
  });

  it('reports an unreachable database as not ready instead of throwing', async () => {
    const prisma = createPrismaClient(PrismaClient, {
      databaseUrl: 'postgresql://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 1_000,
    });
    try {
      const check = await checkDatabase(prisma);
      expect(check.ok).toBe(false);
    } finally {
      await disconnectPrismaClient(prisma);
    }
  });
});
