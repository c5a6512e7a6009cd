/**
 * What Prisma costs per interactive transaction, against plain `pg` doing the same statements
 * on the same PostgreSQL in the same run. The shape is a service's typical write (quiz's
 * submission, evaluation's scoring): lock a row, read it with a relation, update it, and insert
 * two rows. Measured one transaction after another: wall time per transaction, and this process's
 * CPU time per transaction (the figure the lag benchmark shows per service).
 * Writes bench/results/db-transaction.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createTestDatabase } from '@quizmesh/platform/testing';
import { percentile } from '../stats';
import { applyMigrations, createPrismaClient, disconnectPrismaClient } from '../../packages/platform/src/db';
import { PrismaClient } from '../../packages/platform/test/fixtures/generated/prisma/client';
import { fixtureSchema } from '../../packages/platform/test/db-helpers';

const TRANSACTIONS = 2_000;
const WARM_UP = 200;

async function run(label: string, ids: string[], transaction: (id: string, i: number) => Promise<void>) {
  for (let i = 0; i < WARM_UP; i += 1) await transaction(ids[i % ids.length] ?? '', i);
  const wall: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < TRANSACTIONS; i += 1) {
    const started = performance.now();
    await transaction(ids[i % ids.length] ?? '', WARM_UP + i);
    wall.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  wall.sort((a, b) => a - b);
  const result = {
    client: label,
    wallP50Ms: +percentile(wall, 50).toFixed(3),
    wallP99Ms: +percentile(wall, 99).toFixed(3),
    clientCpuMsPerTransaction: +((cpu.user + cpu.system) / 1000 / TRANSACTIONS).toFixed(3),
  };
  console.log(
    `${label.padEnd(24)} wall p50 ${result.wallP50Ms} ms  p99 ${result.wallP99Ms} ms  client CPU ${result.clientCpuMsPerTransaction} ms/transaction`,
  );
  return result;
}

async function main() {
  const db = await createTestDatabase('qm_bench_tx');
  await applyMigrations({ schemaPath: fixtureSchema, databaseUrl: db.url });
  const prisma = createPrismaClient(PrismaClient, { databaseUrl: db.url, poolMax: 10 });
  const pool = new Pool({ connectionString: db.url, max: 10 });
  try {
    const items = await Promise.all(
      Array.from({ length: 100 }, (_, i) => prisma.item.create({ data: { name: `tx-${i}` } })),
    );
    const ids = items.map((item) => item.id);
    console.log(`one interactive transaction (lock, read with relation, update, 2 inserts), ${TRANSACTIONS} in a row`);

    const viaPg = await run('pg (baseline)', ids, async (id, i) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT "id" FROM "Item" WHERE "id" = $1 FOR UPDATE', [id]);
        await client.query(
          `SELECT i.*, coalesce(json_agg(t.*) FILTER (WHERE t."id" IS NOT NULL), '[]') AS tags
           FROM "Item" i LEFT JOIN "Tag" t ON t."itemId" = i."id" WHERE i."id" = $1 GROUP BY i."id"`,
          [id],
        );
        await client.query('UPDATE "Item" SET "quantity" = "quantity" + 1 WHERE "id" = $1', [id]);
        await client.query('INSERT INTO "Tag" ("label", "itemId") VALUES ($1, $2)', [`pg-a-${i}`, id]);
        await client.query('INSERT INTO "Tag" ("label", "itemId") VALUES ($1, $2)', [`pg-b-${i}`, id]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
    });

    const viaPrisma = await run('Prisma 7 + adapter-pg', ids, async (id, i) => {
      await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT "id" FROM "Item" WHERE "id" = ${id} FOR UPDATE`;
        await tx.item.findUniqueOrThrow({ where: { id }, include: { tags: { take: 1 } } });
        await tx.item.update({ where: { id }, data: { quantity: { increment: 1 } } });
        await tx.tag.create({ data: { label: `prisma-a-${i}`, itemId: id } });
        await tx.tag.create({ data: { label: `prisma-b-${i}`, itemId: id } });
      });
    });

    // The same statements as raw SQL through Prisma: what the transaction machinery costs
    // without the query compiler.
    const viaPrismaRaw = await run('Prisma 7, raw SQL', ids, async (id, i) => {
      await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT "id" FROM "Item" WHERE "id" = ${id} FOR UPDATE`;
        await tx.$queryRaw`SELECT i.*, coalesce(json_agg(t.*) FILTER (WHERE t."id" IS NOT NULL), '[]') AS tags
          FROM "Item" i LEFT JOIN "Tag" t ON t."itemId" = i."id" WHERE i."id" = ${id} GROUP BY i."id"`;
        await tx.$executeRaw`UPDATE "Item" SET "quantity" = "quantity" + 1 WHERE "id" = ${id}`;
        await tx.$executeRaw`INSERT INTO "Tag" ("label", "itemId") VALUES (${`raw-a-${i}`}, ${id})`;
        await tx.$executeRaw`INSERT INTO "Tag" ("label", "itemId") VALUES (${`raw-b-${i}`}, ${id})`;
      });
    });

    const ratio = +(viaPrisma.clientCpuMsPerTransaction / viaPg.clientCpuMsPerTransaction).toFixed(1);
    console.log(`Prisma uses ${ratio}× the client CPU of plain pg for the same transaction`);
    const dir = join(__dirname, '..', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'db-transaction.json');
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          benchmark: 'db-transaction',
          date: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          transactions: TRANSACTIONS,
          shape: 'lock row FOR UPDATE, read with relation, update, 2 inserts',
          results: [viaPg, viaPrisma, viaPrismaRaw],
          prismaCpuRatio: ratio,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${file}`);
  } finally {
    await pool.end();
    await disconnectPrismaClient(prisma);
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
