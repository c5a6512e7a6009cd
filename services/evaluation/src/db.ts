/** Evaluation's Prisma client (generated into src/generated/prisma by `npm run generate -w @quizmesh/evaluation`). */
import { createPrismaClient, type DatabaseLogger } from '@quizmesh/platform/db';
import { Prisma, PrismaClient } from './generated/prisma/client';

export { Prisma, PrismaClient };
export type Tx = Prisma.TransactionClient;

export function createEvaluationPrisma(databaseUrl: string, logger?: DatabaseLogger): PrismaClient {
  return createPrismaClient(PrismaClient, { databaseUrl, ...(logger ? { logger } : {}) });
}
