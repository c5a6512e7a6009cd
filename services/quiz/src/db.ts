/** Quiz's Prisma client (generated into src/generated/prisma by `npm run generate -w @quizmesh/quiz`). */
import { createPrismaClient, type DatabaseLogger } from '@quizmesh/platform/db';
import { Prisma, PrismaClient } from './generated/prisma/client';

export { Prisma, PrismaClient };
export type { Attempt, Quiz, QuizVersion } from './generated/prisma/client';
export type { AttemptStatus, Difficulty, QuizStatus, VersionStatus } from './generated/prisma/enums';
export type Tx = Prisma.TransactionClient;

export function createQuizPrisma(databaseUrl: string, logger?: DatabaseLogger): PrismaClient {
  return createPrismaClient(PrismaClient, { databaseUrl, ...(logger ? { logger } : {}) });
}

/** The database's clock inside `tx` (one clock for every replica: start, deadline, submission). */
export async function databaseNow(tx: Tx): Promise<Date> {
  const [row] = await tx.$queryRaw<Array<{ now: Date }>>`SELECT now() AS now`;
  if (!row) throw new Error('SELECT now() returned no row');
  return row.now;
}

/**
 * Locks the quiz row for the rest of the transaction: every change of a quiz's versions
 * (edit, publish, archive) runs under it, so concurrent edits create one draft, not two.
 * `share` lets attempt starts run side by side while still waiting for a publish or archive.
 */
export async function lockQuiz(tx: Tx, quizId: string, mode: 'update' | 'share'): Promise<boolean> {
  const rows =
    mode === 'update'
      ? await tx.$queryRaw<Array<{ id: string }>>`SELECT "id" FROM "Quiz" WHERE "id" = ${quizId}::uuid FOR UPDATE`
      : await tx.$queryRaw<Array<{ id: string }>>`SELECT "id" FROM "Quiz" WHERE "id" = ${quizId}::uuid FOR SHARE`;
  return rows.length === 1;
}

/**
 * Locks an attempt row (state transitions of one attempt never interleave) and answers the
 * database's clock in the same round trip (see databaseNow), or undefined when there is no such attempt.
 */
export async function lockAttempt(tx: Tx, attemptId: string): Promise<Date | undefined> {
  const [row] = await tx.$queryRaw<
    Array<{ now: Date }>
  >`SELECT now() AS now FROM "Attempt" WHERE "id" = ${attemptId}::uuid FOR UPDATE`;
  return row?.now;
}
