/**
 * A real Prisma 7 client for the outbox tests, generated on demand from prisma/schema.prisma
 * (the generated folder is git-ignored; the platform's own generate step does not know it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PrismaPg } from '@prisma/adapter-pg';
import { createPrismaClient } from '@quizmesh/platform/db';
import type { OutboxSql } from '@quizmesh/platform/outbox';

export const fixtureSchema = join(__dirname, 'prisma', 'schema.prisma');
const generatedClient = join(__dirname, 'generated', 'prisma', 'client.ts');

/** The part of the generated client these tests use (typed here so tsc needs no generated code). */
export interface FixtureClient extends OutboxSql {
  $transaction<T>(run: (tx: OutboxSql) => Promise<T>): Promise<T>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $disconnect(): Promise<void>;
}

type FixtureClientClass = new (options: { adapter: PrismaPg }) => FixtureClient;

export function loadFixtureClientClass(): FixtureClientClass {
  if (!existsSync(generatedClient) || statSync(generatedClient).mtimeMs < statSync(fixtureSchema).mtimeMs) {
    execFileSync(
      process.execPath,
      [join(__dirname, '../../bin/quizmesh-prisma-generate.cjs'), '--schema', fixtureSchema],
      { stdio: 'pipe' },
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(generatedClient) as { PrismaClient: FixtureClientClass }).PrismaClient;
}

export function createFixtureClient(databaseUrl: string): FixtureClient {
  return createPrismaClient(loadFixtureClientClass(), { databaseUrl, poolMax: 6 });
}
