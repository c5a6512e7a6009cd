/**
 * Attempts: IN_PROGRESS → SUBMITTED → SCORED, or SUBMITTED → FAILED (compensation). Every
 * transition is one row in AttemptTransition, written in the transaction that changes the
 * state, so the history is exactly the states the attempt went through.
 */
import { AppError, type CallerUser } from '@quizmesh/platform';
import { isUniqueViolation } from '@quizmesh/platform/db';
import { enqueue, type EnqueueOptions } from '@quizmesh/platform/outbox';
import { quizCompleted } from '@quizmesh/contracts/events';
import type { SubmitAttemptRequest } from '@quizmesh/contracts/quiz-api';
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
import { storedQuestions } from './views';

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

export interface StartedAttempt extends QuizWithVersion {
  attempt: Attempt;
  created: boolean;
}

/**
 * Starts an attempt at the quiz's published version, or returns the caller's open one for
 * that version (one open attempt per player and version: restarting does not reset the clock).
 */
export async function startAttempt(
  prisma: PrismaClient,
  player: CallerUser,
  quizId: string,
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
      if (open) return { quiz, version, attempt: open, created: false };
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
      return { quiz, version, attempt, created: true };
    });
  } catch (err) {
    // Two starts raced past the lookup; the partial unique index let one win: return that one.
    if (retried || !isUniqueViolation(err)) throw err;
    return startAttempt(prisma, player, quizId, true);
  }
}

/** Checks the answers against the version played; names the offending field. */
function validateAnswers(version: QuizVersion, answers: SubmitAttemptRequest['answers']): void {
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
  attempt: Attempt;
  /** false when the attempt had been submitted before (nothing changed, no event) */
  accepted: boolean;
}

/**
 * Records the answers and writes quiz.completed to the outbox, in one transaction. Submitting
 * an attempt that is no longer IN_PROGRESS changes nothing and answers the same (idempotent).
 */
export async function submitAttempt(
  prisma: PrismaClient,
  player: CallerUser,
  attemptId: string,
  body: SubmitAttemptRequest,
  options: { graceSeconds: number; trace: EnqueueOptions },
): Promise<Submission> {
  return prisma.$transaction(async (tx) => {
    const now = await lockAttempt(tx, attemptId);
    if (!now) throw AppError.notFound('no such attempt');
    const attempt = await tx.attempt.findUniqueOrThrow({ where: { id: attemptId }, include: { quizVersion: true } });
    if (attempt.userId !== player.id) throw AppError.forbidden('only the player who started an attempt may submit it');
    if (attempt.status !== 'IN_PROGRESS') return { attempt, accepted: false };
    validateAnswers(attempt.quizVersion, body.answers);

    const late = now.getTime() > attempt.deadlineAt.getTime() + options.graceSeconds * 1000;
    const updated = await tx.attempt.update({
      where: { id: attemptId },
      data: { status: 'SUBMITTED', submittedAt: now, late, answers: body.answers },
    });
    const eventId = await enqueue(
      tx,
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
    // After the enqueue on purpose: a failure here must roll the outbox row back too (tested).
    await recordTransition(tx, attemptId, {
      from: 'IN_PROGRESS',
      to: 'SUBMITTED',
      reason: late ? 'submitted late' : 'submitted',
      eventId,
    });
    return { attempt: updated, accepted: true };
  });
}

/** The attempt, if the caller may see it (its player, or an admin). */
export async function visibleAttempt(prisma: PrismaClient, user: CallerUser, attemptId: string): Promise<Attempt> {
  const attempt = await prisma.attempt.findUnique({ where: { id: attemptId } });
  if (!attempt) throw AppError.notFound('no such attempt');
  if (attempt.userId !== user.id && !user.roles.includes('admin')) throw AppError.forbidden('not your attempt');
  return attempt;
}
