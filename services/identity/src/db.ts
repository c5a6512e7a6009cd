/** Identity's Prisma client (generated into src/generated/prisma by `npm run generate -w @quizmesh/identity`). */
import { createPrismaClient, type DatabaseLogger } from '@quizmesh/platform/db';
import { Prisma, PrismaClient } from './generated/prisma/client';

export { Prisma, PrismaClient };
export type { Role, User } from './generated/prisma/client';
export type Tx = Prisma.TransactionClient;

export function createIdentityPrisma(databaseUrl: string, logger?: DatabaseLogger): PrismaClient {
  return createPrismaClient(PrismaClient, { databaseUrl, ...(logger ? { logger } : {}) });
}
