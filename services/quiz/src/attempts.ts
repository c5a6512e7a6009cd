/**
 * Attempts: IN_PROGRESS → SUBMITTED → SCORED, or SUBMITTED → FAILED (compensation), or
 * IN_PROGRESS → EXPIRED when nobody submitted it by its deadline plus grace (decision 0840).
 * Every transition is one row in AttemptTransition, written in the transaction that changes the
 * state, so the history is exactly the states the attempt went through.
 */
import { AppError, type CallerUser } from '@quizmesh/platform';
import { isUniqueViolation } from '@quizmesh/platform/db';
import { enqueue, outboxEvent, outboxInsert, type EnqueueOptions } from '@quizmesh/platform/outbox';
import { quizCompleted } from '@quizmesh/contracts/events';
import type { AttemptReview, SubmitAttemptRequest } from '@quizmesh/contracts/quiz-api';
import {
  databaseNow,
  lockAttempt,
  type Attempt,
  type AttemptStatus,
  type PrismaClient,
  type QuizVersion,
  type Tx,
} from './db';
import { lockedQuiz, type QuizWithVersion } from './quizzes';
import { storedQuestions, toAttemptReview } from './views';

export interface Transition {
  from: AttemptStatus | null;
  to: AttemptStatus;
  reason: string;
  eventId?: string | undefined;
}

export async function recordTransition(tx: Tx, attemptId: string, transition: Transition): Promise<void> {
  await tx.attemptTransition.create({
    data: {
      attemptId,
      fromStatus: transition.from,
      toStatus: transition.to,
      reason: transition.reason,
      eventId: transition.eventId ?? null,
    },
  });
}

/** Past its deadline plus the grace period: a submission now would be late (scored 0). */
export function isOverdue(attempt: Pick<Attempt, 'deadlineAt'>, now: Date, graceSeconds: number): boolean {
  return now.getTime() > attempt.deadlineAt.getTime() + graceSeconds * 1000;
}

export const EXPIRED_REASON = 'not submitted by its deadline plus grace';

/**
 * Closes an open attempt nobody submitted in time (the caller holds its row lock). It scores
 * what a late submission without answers scores under the rules of decision 0501, so the rule
 * stays evaluation's: quiz.completed with no answers and `late: true` (0 points, not ranked),
 * in the same transaction. Returns the event id.
 */
async function expireAttempt(tx: Tx, attempt: Attempt, now: Date, trace: EnqueueOptions = {}): Promise<string> {
  await tx.attempt.update({ where: { id: attempt.id }, data: { status: 'EXPIRED', late: true } });
  const eventId = await enqueue(
    tx,
    quizCompleted,
    {
      schemaVersion: 1,
      attemptId: attempt.id,
      quizId: attempt.quizId,
      quizVersion: attempt.version,
      userId: attempt.userId,
      answers: [],
      startedAt: attempt.startedAt.toISOString(),
      submittedAt: now.toISOString(),
      deadlineAt: attempt.deadlineAt.toISOString(),
      late: true,
    },
    trace,
  );
  await recordTransition(tx, attempt.id, { from: 'IN_PROGRESS', to: 'EXPIRED', reason: EXPIRED_REASON, eventId });
  return eventId;
}

/**
 * The sweep (a Dapr cron binding, platform schedules): expires open attempts past their deadline
 * plus grace, `batchSize` per transaction. Safe in every replica at once: rows are claimed with
 * SKIP LOCKED, and a row a submit holds is left to that submit.
 */
export async function expireOverdueAttempts(
  prisma: PrismaClient,
  options: { graceSeconds: number; batchSize?: number; maxBatches?: number },
): Promise<{ expired: number }> {
  const batchSize = options.batchSize ?? 100;
  let expired = 0;
  for (let batch = 0; batch < (options.maxBatches ?? 50); batch += 1) {
    const count = await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Array<{ id: string; now: Date }>>`
        SELECT "id"::text AS "id", now() AS "now" FROM "Attempt"
        WHERE "status" = 'IN_PROGRESS' AND "deadlineAt" < now() - make_interval(secs => ${options.graceSeconds})
        ORDER BY "deadlineAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
      for (const row of rows) {
        await expireAttempt(tx, await tx.attempt.findUniqueOrThrow({ where: { id: row.id } }), row.now);
      }
      return rows.length;
    });
    expired += count;
    if (count < batchSize) break;
  }
  return { expired };
}

export const ATTEMPT_EXPIRY_BINDING = 'attempt-expiry';

export interface StartedAttempt extends QuizWithVersion {
  attempt: Attempt;
  created: boolean;
  /** the caller's open attempt this start closed as EXPIRED (it was past its deadline plus grace) */
  expiredAttemptId?: string;
}

/**
 * Starts an attempt at the quiz's published version, or returns the caller's open one for
 * that version (one open attempt per player and version: restarting does not reset the clock).
 * An open one past its deadline plus grace is expired first, and a new one starts.
 */
export async function startAttempt(
  prisma: PrismaClient,
  player: CallerUser,
  quizId: string,
  options: { graceSeconds: number; trace: EnqueueOptions },
  retried = false,
): Promise<StartedAttempt> {
  try {
    return await prisma.$transaction(async (tx) => {
      const quiz = await lockedQuiz(tx, quizId, 'share');
      if (quiz.status === 'archived')
        throw new AppError(409, { code: 'quiz-archived', detail: 'the quiz is archived' });
      if (quiz.publishedVersion === null) throw AppError.notFound('no such quiz');
      const version = await tx.quizVersion.findUniqueOrThrow({
        where: { quizId_version: { quizId, version: quiz.publishedVersion } },
      });
      const open = await tx.attempt.findFirst({
        where: { userId: player.id, quizVersionId: version.id, status: 'IN_PROGRESS' },
      });
      let expiredAttemptId: string | undefined;
      if (open) {
        // Lock, then look again: a submit or the sweep may have closed it meanwhile.
        const now = await lockAttempt(tx, open.id);
        const locked = await tx.attempt.findUniqueOrThrow({ where: { id: open.id } });
        if (now && locked.status === 'IN_PROGRESS' && !isOverdue(locked, now, options.graceSeconds)) {
          return { quiz, version, attempt: locked, created: false };
        }
        if (now && locked.status === 'IN_PROGRESS') {
          await expireAttempt(tx, locked, now, options.trace);
          expiredAttemptId = locked.id;
        }
      }
      const now = await databaseNow(tx);
      const attempt = await tx.attempt.create({
        data: {
          quizId,
          quizVersionId: version.id,
          version: version.version,
          userId: player.id,
          startedAt: now,
          deadlineAt: new Date(now.getTime() + version.timeLimitSeconds * 1000),
          maxScore: version.maxScore,
          questionCount: version.questionCount,
        },
      });
      await recordTransition(tx, attempt.id, { from: null, to: 'IN_PROGRESS', reason: 'started' });
      return { quiz, version, attempt, created: true, ...(expiredAttemptId ? { expiredAttemptId } : {}) };
    });
  } catch (err) {
    // Two starts raced past the lookup; the partial unique index let one win: return that one.
    if (retried || !isUniqueViolation(err)) throw err;
    return startAttempt(prisma, player, quizId, options, true);
  }
}

/** Checks the answers against the version played; names the offending field. */
function validateAnswers(version: Pick<QuizVersion, 'questions'>, answers: SubmitAttemptRequest['answers']): void {
  const questions = new Map(storedQuestions(version).map((q) => [q.id, q]));
  answers.forEach((answer, i) => {
    const question = questions.get(answer.questionId);
    if (!question) {
      throw AppError.badRequest(`body.answers.${i}.questionId: not a question of this quiz version`, [
        { field: `body.answers.${i}.questionId`, message: 'not a question of this quiz version' },
      ]);
    }
    const optionIds = new Set(question.options.map((o) => o.id));
    const unknown = answer.optionIds.findIndex((id) => !optionIds.has(id));
    if (unknown >= 0) {
      throw AppError.badRequest(`body.answers.${i}.optionIds.${unknown}: not an option of this question`, [
        { field: `body.answers.${i}.optionIds.${unknown}`, message: 'not an option of this question' },
      ]);
    }
    if (question.type === 'single' && answer.optionIds.length > 1) {
      throw AppError.badRequest(`body.answers.${i}.optionIds: a single-choice question takes one option`, [
        { field: `body.answers.${i}.optionIds`, message: 'a single-choice question takes one option' },
      ]);
    }
  });
}

export interface Submission {
  /** what the 202 says about the attempt */
  attempt: Pick<Attempt, 'status' | 'late' | 'submittedAt'>;
  /** false when the attempt had been submitted before (nothing changed, no event) */
  accepted: boolean;
}

/** What a submission needs of the attempt and its version, read with the database's clock. */
interface SubmissionTarget {
  userId: string;
  status: AttemptStatus;
  quizId: string;
  version: number;
  startedAt: Date;
  deadlineAt: Date;
  late: boolean;
  submittedAt: Date | null;
  questions: QuizVersion['questions'];
  now: Date;
}

/**
 * Records the answers and writes quiz.completed to the outbox. Submitting an attempt that is no
 * longer IN_PROGRESS changes nothing and answers the same (idempotent).
 *
 * Two round trips and no interactive transaction (the hot path of the platform, decision
 * 0890): one read (the attempt, its version's questions, the database's clock), then one
 * statement that moves the attempt to SUBMITTED only while it is still IN_PROGRESS and, in the
 * same statement, writes the outbox row and the transition. A submit or the expiry sweep that
 * got there first makes the update match nothing, so nothing is written, and the attempt as
 * they left it is answered as before.
 */
export async function submitAttempt(
  prisma: PrismaClient,
  player: CallerUser,
  attemptId: string,
  body: SubmitAttemptRequest,
  options: { graceSeconds: number; trace: EnqueueOptions },
): Promise<Submission> {
  const [attempt] = await prisma.$queryRaw<SubmissionTarget[]>`
    SELECT a."userId"::text AS "userId", a."status"::text AS "status", a."quizId"::text AS "quizId", a."version",
           a."startedAt", a."deadlineAt", a."late", a."submittedAt", v."questions", now() AS "now"
    FROM "Attempt" a JOIN "QuizVersion" v ON v."id" = a."quizVersionId"
    WHERE a."id" = ${attemptId}::uuid`;
  if (!attempt) throw AppError.notFound('no such attempt');
  if (attempt.userId !== player.id) throw AppError.forbidden('only the player who started an attempt may submit it');
  const closed = (current: Pick<SubmissionTarget, 'status' | 'deadlineAt' | 'late' | 'submittedAt'>): Submission => {
    if (current.status === 'EXPIRED') {
      throw new AppError(409, {
        code: 'attempt-expired',
        detail: `the attempt expired unsubmitted (deadline ${current.deadlineAt.toISOString()} plus grace); start a new one`,
      });
    }
    return { attempt: current, accepted: false };
  };
  if (attempt.status !== 'IN_PROGRESS') return closed(attempt);
  validateAnswers(attempt, body.answers);

  const now = attempt.now;
  const late = isOverdue(attempt, now, options.graceSeconds);
  const event = outboxEvent(
    quizCompleted,
    {
      schemaVersion: 1,
      attemptId,
      quizId: attempt.quizId,
      quizVersion: attempt.version,
      userId: attempt.userId,
      answers: body.answers,
      startedAt: attempt.startedAt.toISOString(),
      submittedAt: now.toISOString(),
      deadlineAt: attempt.deadlineAt.toISOString(),
      late,
    },
    options.trace,
  );
  const insertEvent = outboxInsert([event], 7);
  // One statement: the outbox row and the transition exist exactly when the update happened.
  const submitted = await prisma.$queryRawUnsafe<Array<Pick<Attempt, 'status' | 'late' | 'submittedAt'>>>(
    `WITH submitted AS (
       UPDATE "Attempt" SET "status" = 'SUBMITTED', "submittedAt" = $2::timestamptz, "late" = $3::boolean,
         "answers" = $4::jsonb, "updatedAt" = now()
       WHERE "id" = $1::uuid AND "status" = 'IN_PROGRESS'
       RETURNING "id", "status", "late", "submittedAt"),
     event AS (${insertEvent.sql} WHERE EXISTS (SELECT 1 FROM submitted)),
     transition AS (
       INSERT INTO "AttemptTransition" ("attemptId", "fromStatus", "toStatus", "reason", "eventId")
       SELECT "id", 'IN_PROGRESS'::"AttemptStatus", 'SUBMITTED'::"AttemptStatus", $5, $6 FROM submitted)
     SELECT "status"::text AS "status", "late", "submittedAt" FROM submitted`,
    attemptId,
    now,
    late,
    JSON.stringify(body.answers),
    late ? 'submitted late' : 'submitted',
    event.id,
    ...insertEvent.values,
  );
  const [updated] = submitted;
  if (updated) return { attempt: updated, accepted: true };
  // Closed meanwhile (a concurrent submit, or the sweep): answer the attempt as it is now.
  const current = await prisma.attempt.findUniqueOrThrow({ where: { id: attemptId } });
  return closed(current);
}

/**
 * The review of a scored attempt, for its player only (decision 0841): 404 unknown, 403 anyone
 * else (admins too: the sibling GET /attempts/{id} already answers 403, so 404 would hide
 * nothing), 409 until it is scored, so answer keys and explanations never show before.
 */
export async function reviewAttempt(
  prisma: PrismaClient,
  player: CallerUser,
  attemptId: string,
): Promise<AttemptReview> {
  const attempt = await prisma.attempt.findUnique({ where: { id: attemptId }, include: { quizVersion: true } });
  if (!attempt) throw AppError.notFound('no such attempt');
  if (attempt.userId !== player.id) throw AppError.forbidden('only the player who made an attempt may review it');
  const review = toAttemptReview(attempt, attempt.quizVersion);
  if (review) return review;
  const scored = attempt.scoredAt !== null && (attempt.status === 'SCORED' || attempt.status === 'EXPIRED');
  throw new AppError(409, {
    code: 'attempt-not-scored',
    detail: scored
      ? 'this attempt was scored before reviews were recorded; it has no review'
      : `the attempt is ${attempt.status}: its review is available once it is scored`,
  });
}

/** The attempt, if the caller may see it (its player, or an admin). */
export async function visibleAttempt(prisma: PrismaClient, user: CallerUser, attemptId: string): Promise<Attempt> {
  const attempt = await prisma.attempt.findUnique({ where: { id: attemptId } });
  if (!attempt) throw AppError.notFound('no such attempt');
  if (attempt.userId !== user.id && !user.roles.includes('admin')) throw AppError.forbidden('not your attempt');
  return attempt;
}
