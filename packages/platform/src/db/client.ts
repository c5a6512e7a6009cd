/**
 * Creates a service's generated Prisma client on `@prisma/adapter-pg` (the driver adapter
 * Prisma 7 needs: the `prisma-client` generator has no built-in engine), plus the readiness
 * check and the shutdown the HTTP server wires up.
 */
import { PrismaPg } from '@prisma/adapter-pg';
// Every service's generated client throws this one runtime class (one @prisma/client in the tree).
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import { withTimeout } from '../timeout';

/** The pino-compatible subset we log through. */
export interface DatabaseLogger {
  warn(details: object, message: string): void;
}

export interface PrismaClientConfig {
  /** postgresql://user:password@host:port/database (DATABASE_URL). */
  databaseUrl: string;
  /** Upper bound of pooled connections per process; defaults to 10 (pg's default). */
  poolMax?: number;
  /** Gives up connecting after this long; defaults to 5000 ms. */
  connectionTimeoutMillis?: number;
  logger?: DatabaseLogger;
}

/** Satisfied by every client generated with `provider = "prisma-client"`. */
export interface PrismaClientLike {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $disconnect(): Promise<void>;
}

export class DatabaseConfigError extends Error {
  override name = 'DatabaseConfigError';
}

function validateDatabaseUrl(databaseUrl: string): void {
  let protocol: string;
  try {
    protocol = new URL(databaseUrl).protocol;
  } catch {
    throw new DatabaseConfigError('DATABASE_URL is not a valid URL (expected postgresql://user@host:port/database)');
  }
  if (protocol !== 'postgresql:' && protocol !== 'postgres:') {
    throw new DatabaseConfigError(`DATABASE_URL must use postgresql://, got ${protocol}//`);
  }
}

/**
 * `new PrismaClientClass({ adapter })` with a pg pool built from the config.
 *
 * @example
 *   import { PrismaClient } from './generated/prisma/client';
 *   const prisma = createPrismaClient(PrismaClient, { databaseUrl: config.DATABASE_URL, logger });
 */
export function createPrismaClient<Client extends PrismaClientLike>(
  PrismaClientClass: new (options: { adapter: PrismaPg }) => Client,
  config: PrismaClientConfig,
): Client {
  validateDatabaseUrl(config.databaseUrl);
  if (config.poolMax !== undefined && (!Number.isInteger(config.poolMax) || config.poolMax < 1)) {
    throw new DatabaseConfigError(`poolMax must be a positive integer, got ${config.poolMax}`);
  }
  const { logger } = config;
  const adapter = new PrismaPg(
    {
      connectionString: config.databaseUrl,
      max: config.poolMax ?? 10,
      connectionTimeoutMillis: config.connectionTimeoutMillis ?? 5_000,
    },
    // Without these handlers a dropped idle connection would crash the process.
    {
      onPoolError: (err) => logger?.warn({ err }, 'database pool error'),
      onConnectionError: (err) => logger?.warn({ err }, 'database connection error'),
    },
  );
  return new PrismaClientClass({ adapter });
}

export type DatabaseCheck = { ok: true; latencyMs: number } | { ok: false; latencyMs: number; error: string };

/** Readiness probe: `SELECT 1` within `timeoutMs` (default 2000). Never throws. */
export async function checkDatabase(client: PrismaClientLike, timeoutMs = 2_000): Promise<DatabaseCheck> {
  const started = performance.now();
  try {
    await withTimeout(client.$queryRawUnsafe('SELECT 1'), timeoutMs, `no answer within ${timeoutMs} ms`);
    return { ok: true, latencyMs: performance.now() - started };
  } catch (error) {
    return {
      ok: false,
      latencyMs: performance.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** A unique-constraint violation (P2002), e.g. two registrations of one email racing. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof PrismaClientKnownRequestError && err.code === 'P2002';
}

/** "Record to update not found" (P2025). */
export function isRecordNotFound(err: unknown): boolean {
  return err instanceof PrismaClientKnownRequestError && err.code === 'P2025';
}

/** The readiness check of a service with a database (`/readyz` names it `database`). */
export function databaseReadiness(client: PrismaClientLike): () => Promise<void> {
  return async () => {
    const check = await checkDatabase(client);
    if (!check.ok) throw new Error(check.error);
  };
}

/** Graceful shutdown: waits for in-flight queries, then closes the pool. */
export async function disconnectPrismaClient(client: PrismaClientLike): Promise<void> {
  await client.$disconnect();
}
