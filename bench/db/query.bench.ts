/**
 * findUnique by primary key on real PostgreSQL vs embedded PGlite (quizmesh-embedded-postgres
 * process), through the same createPrismaClient / @prisma/adapter-pg path.
 * Prints p50/p99 latency (sequential) and throughput (64 concurrent), writes bench/results/db-query.json.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@quizmesh/platform/testing';
import { percentile } from '../stats';
import { applyMigrations, createPrismaClient, disconnectPrismaClient } from '../../packages/platform/src/db';
import { PrismaClient } from '../../packages/platform/test/fixtures/generated/prisma/client';
import { fixtureSchema, startEmbeddedProcess } from '../../packages/platform/test/db-helpers';

const SEQUENTIAL = 2_000;
const CONCURRENT_TOTAL = 4_000;
const CONCURRENCY = 64;

async function measure(label: string, databaseUrl: string) {
  await applyMigrations({ schemaPath: fixtureSchema, databaseUrl });
  const prisma = createPrismaClient(PrismaClient, { databaseUrl, poolMax: 10 });
  try {
    const items = await Promise.all(
      Array.from({ length: 100 }, (_, i) => prisma.item.create({ data: { name: `bench-${i}` } })),
    );
    const ids = items.map((i) => i.id);
    for (let i = 0; i < 200; i += 1) await prisma.item.findUnique({ where: { id: ids[i % ids.length] ?? '' } }); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i += 1) {
      const started = performance.now();
      await prisma.item.findUnique({ where: { id: ids[i % ids.length] ?? '' } });
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CONCURRENT_TOTAL) {
          const i = next++;
          await prisma.item.findUnique({ where: { id: ids[i % ids.length] ?? '' } });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const result = {
      backend: label,
      p50Ms: +percentile(latencies, 50).toFixed(3),
      p99Ms: +percentile(latencies, 99).toFixed(3),
      throughputPerSec: Math.round(CONCURRENT_TOTAL / seconds),
    };
    console.log(
      `${label.padEnd(16)} p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  ${result.throughputPerSec} findUnique/s (${CONCURRENCY} concurrent)`,
    );
    return result;
  } finally {
    await disconnectPrismaClient(prisma);
  }
}

async function main(): Promise<void> {
  const database = await createTestDatabase('qm_bench_db');
  const dataDir = await mkdtemp(join(tmpdir(), 'qm-bench-pglite-'));
  const embedded = await startEmbeddedProcess(dataDir);
  try {
    const results = [await measure('postgresql', database.url), await measure('pglite-embedded', embedded.url)];
    const out = join(__dirname, '..', 'results');
    await mkdir(out, { recursive: true });
    await writeFile(
      join(out, 'db-query.json'),
      `${JSON.stringify({ bench: 'db-query', date: new Date().toISOString(), sequential: SEQUENTIAL, concurrency: CONCURRENCY, results }, null, 2)}\n`,
    );
  } finally {
    await embedded.stop();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
