/**
 * What quiz consumes (Subscriptions in components/common/subscriptions-quiz.yaml):
 *  - score.calculated: the attempt becomes SCORED, keeping what each question earned for the
 *    player's review; an EXPIRED attempt keeps its state and gets its score (idempotent:
 *    consumeOnce + state check);
 *  - quiz.completed.deadletter: evaluation could not score an attempt; compensation marks it
 *    FAILED and publishes attempt.failed (the player is told by notification);
 *  - leaderboard.updated (every replica; version 1 or 2, decision 1070): for each quiz board
 *    it names, the quiz's leaderboard snapshot (the newest wins, so one replica writes it and
 *    the others find it written), and each replica drops the quiz's cached views;
 *  - quiz.view.changed (every replica, from quiz itself): a version was published or the quiz
 *    archived through some replica; each drops the quiz's cached views (decision 0900);
 * Dead letters of all three topics are kept by the platform's dead-letter helper (admin list and
 * replay at /api/v1/admin/dead-letters, decision 0600); quiz.completed's trigger the compensation.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { DeliveryOutcome, EventEnvelope, ServiceRuntime } from '@quizmesh/platform';
import type { DeadLetterEvent } from '@quizmesh/platform/deadletters';
import { consumeOnce, enqueue, type OutboxRelay } from '@quizmesh/platform/outbox';
import {
  attemptFailed,
  leaderboardBoardUpdatesOf,
  leaderboardUpdated,
  leaderboardUpdatedV1OrV2,
  quizCompleted,
  quizViewChanged,
  scoreCalculated,
  type LeaderboardUpdatedV1,
  type LeaderboardUpdatedV1OrV2,
  type QuizViewChanged,
  type ScoreCalculated,
} from '@quizmesh/contracts/events';
import { BROADCAST_PUBSUB } from '@quizmesh/contracts/system';
import { recordTransition } from './attempts';
import { invalidatePlayerViews, type PlayerViewCache, type QuizCache } from './cache';
import { lockAttempt, type PrismaClient } from './db';

export const SCORE_CONSUMER = 'quiz.attempt-scores';
export const COMPENSATION_CONSUMER = 'quiz.attempt-compensation';
/** entries of a leaderboard snapshot shown with a quiz */
export const LEADERBOARD_TOP = 10;
export const COMPENSATION_REASON =
  'evaluation could not score the attempt (its quiz.completed event was dead-lettered)';

export interface ConsumerDeps {
  prisma: PrismaClient;
  cache: QuizCache;
  views: PlayerViewCache;
  logger: Logger;
  relay?: Pick<OutboxRelay, 'wake'> | undefined;
  /** resolves quiz's own copy of a dead letter whose event was handled after all (DeadLetters.reconcile) */
  reconcileDeadLetter?: ((topic: string, eventId: string, note: string) => Promise<boolean>) | undefined;
}

/**
 * The common case in one statement (decision 0890): a SUBMITTED attempt of this player, quiz
 * and version, and an event not seen before, becomes SCORED with its transition, and the event
 * is recorded as processed. Returns false, having changed nothing, for every other case, which
 * the general path below handles (redelivery, expired or failed attempt, mismatch, unknown).
 * A concurrent delivery of the same event waits for the row lock and then finds it SCORED.
 */
async function scoreSubmittedAttempt(prisma: PrismaClient, event: ScoreCalculated, eventId: string): Promise<boolean> {
  const rows = await prisma.$queryRawUnsafe<Array<{ scored: number }>>(
    `WITH scored AS (
       UPDATE "Attempt" SET "status" = 'SCORED', "score" = $4::float8, "maxScore" = $5::int, "correctCount" = $6::int,
         "questionCount" = $7::int, "scoredAt" = $8::timestamptz,
         "questionResults" = COALESCE($9::jsonb, "questionResults"), "failureReason" = NULL, "updatedAt" = now()
       WHERE "id" = $1::uuid AND "status" = 'SUBMITTED' AND "userId" = $2::uuid AND "quizId" = $3::uuid
         AND ($10::int IS NULL OR "version" = $10::int)
         AND NOT EXISTS (SELECT 1 FROM "ProcessedEvent" WHERE "consumer" = $11 AND "eventId" = $12)
       RETURNING "id"),
     processed AS (
       INSERT INTO "ProcessedEvent" ("consumer", "eventId") SELECT $11, $12 FROM scored ON CONFLICT DO NOTHING),
     transition AS (
       INSERT INTO "AttemptTransition" ("attemptId", "fromStatus", "toStatus", "reason", "eventId")
       SELECT "id", 'SUBMITTED'::"AttemptStatus", 'SCORED'::"AttemptStatus", 'score.calculated', $12 FROM scored)
     SELECT count(*)::int AS "scored" FROM scored`,
    event.attemptId,
    event.userId,
    event.quizId,
    event.score,
    event.maxScore,
    event.correctCount,
    event.questionCount,
    new Date(event.calculatedAt),
    event.questions ? JSON.stringify(event.questions) : null,
    event.quizVersion ?? null,
    SCORE_CONSUMER,
    eventId,
  );
  return (rows[0]?.scored ?? 0) === 1;
}

export async function applyScore(
  deps: ConsumerDeps,
  event: ScoreCalculated,
  envelope: Pick<EventEnvelope, 'id'>,
): Promise<DeliveryOutcome> {
  if (await scoreSubmittedAttempt(deps.prisma, event, envelope.id)) return 'SUCCESS';
  // true when this score may settle a compensated attempt (FAILED → SCORED, or a redelivery of it)
  let mayReconcile = false;
  await deps.prisma.$transaction(async (tx) => {
    if (!(await consumeOnce(tx, SCORE_CONSUMER, envelope.id))) {
      mayReconcile = true;
      return;
    }
    if (!(await lockAttempt(tx, event.attemptId))) {
      deps.logger.warn({ eventId: envelope.id, attemptId: event.attemptId }, 'score for an unknown attempt ignored');
      return;
    }
    const attempt = await tx.attempt.findUniqueOrThrow({ where: { id: event.attemptId } });
    const otherVersion = event.quizVersion !== undefined && event.quizVersion !== attempt.version;
    if (attempt.userId !== event.userId || attempt.quizId !== event.quizId || otherVersion) {
      deps.logger.warn(
        { eventId: envelope.id, attemptId: attempt.id },
        'score names another player, quiz or version than its attempt; ignored',
      );
      return;
    }
    const scoreFields = {
      score: event.score,
      maxScore: event.maxScore,
      correctCount: event.correctCount,
      questionCount: event.questionCount,
      scoredAt: new Date(event.calculatedAt),
      ...(event.questions ? { questionResults: event.questions } : {}),
    };
    // An expired attempt keeps its state and gets its score (0: decision 0840), once.
    if (attempt.status === 'EXPIRED' && attempt.scoredAt === null) {
      await tx.attempt.update({ where: { id: attempt.id }, data: scoreFields });
      return;
    }
    // FAILED → SCORED: an admin replayed the dead letter and evaluation scored it after all.
    if (attempt.status !== 'SUBMITTED' && attempt.status !== 'FAILED') {
      deps.logger.info(
        { eventId: envelope.id, attemptId: attempt.id, status: attempt.status },
        'score for an attempt in this state ignored',
      );
      return;
    }
    await tx.attempt.update({
      where: { id: attempt.id },
      data: { status: 'SCORED', ...scoreFields, failureReason: null },
    });
    await recordTransition(tx, attempt.id, {
      from: attempt.status,
      to: 'SCORED',
      reason: 'score.calculated',
      eventId: envelope.id,
    });
    mayReconcile = attempt.status === 'FAILED';
  });
  if (mayReconcile) await reconcileCompensatedCompletion(deps, event.attemptId);
  return 'SUCCESS';
}

/**
 * A compensated attempt that was scored after all (an admin replayed its quiz.completed where
 * it failed, in evaluation): quiz's own copy of that dead letter, the one that triggered the
 * compensation, is resolved as reconciled instead of staying listed as if the attempt were
 * still unscored (issue 12). Idempotent; a failure throws, so the score is redelivered and
 * this runs again (the attempt is already SCORED by then).
 */
async function reconcileCompensatedCompletion(deps: ConsumerDeps, attemptId: string): Promise<void> {
  if (!deps.reconcileDeadLetter) return;
  const [attempt, submitted] = await Promise.all([
    deps.prisma.attempt.findUnique({ where: { id: attemptId }, select: { status: true } }),
    deps.prisma.attemptTransition.findFirst({
      where: { attemptId, toStatus: 'SUBMITTED' },
      select: { eventId: true },
    }),
  ]);
  if (attempt?.status !== 'SCORED' || !submitted?.eventId) return;
  await deps.reconcileDeadLetter(quizCompleted.topic, submitted.eventId, `attempt ${attemptId} was scored after all`);
}

/**
 * What the compensation needs of a dead-lettered quiz.completed: only the attempt id. Deliberately
 * lenient (not the full contract): a message dead-lettered for being malformed must still fail its attempt.
 */
export const deadLetteredCompletionSchema = z.object({ attemptId: z.uuid() });

/**
 * Compensation for a quiz.completed that reached its dead-letter topic: the attempt becomes
 * FAILED and attempt.failed enters the outbox, in one transaction. Runs on every arrival of
 * the dead letter (redeliveries, replays), so it is idempotent: consumeOnce on the event id,
 * and only a SUBMITTED attempt changes.
 */
export async function compensateUnscoredAttempt(
  deps: ConsumerDeps,
  deadLetter: Pick<DeadLetterEvent, 'eventId' | 'event'>,
): Promise<void> {
  const parsed = deadLetteredCompletionSchema.safeParse(deadLetter.event.data);
  if (!parsed.success) {
    deps.logger.error(
      { eventId: deadLetter.eventId },
      'dead-lettered quiz.completed names no attempt; nothing to compensate',
    );
    return;
  }
  const { attemptId } = parsed.data;
  let failed = false;
  await deps.prisma.$transaction(async (tx) => {
    if (!(await consumeOnce(tx, COMPENSATION_CONSUMER, deadLetter.eventId))) return;
    const failedAt = await lockAttempt(tx, attemptId);
    if (!failedAt) {
      deps.logger.warn({ eventId: deadLetter.eventId, attemptId }, 'dead-lettered completion of an unknown attempt');
      return;
    }
    const attempt = await tx.attempt.findUniqueOrThrow({ where: { id: attemptId }, include: { quizVersion: true } });
    if (attempt.status !== 'SUBMITTED' || !attempt.submittedAt) {
      deps.logger.info(
        { eventId: deadLetter.eventId, attemptId, status: attempt.status },
        'dead-lettered completion of an attempt no longer awaiting a score',
      );
      return;
    }
    await tx.attempt.update({
      where: { id: attemptId },
      data: { status: 'FAILED', failureReason: COMPENSATION_REASON },
    });
    const published = await enqueue(tx, attemptFailed, {
      schemaVersion: 1,
      attemptId,
      quizId: attempt.quizId,
      quizVersion: attempt.version,
      quizTitle: attempt.quizVersion.title,
      userId: attempt.userId,
      reason: COMPENSATION_REASON,
      submittedAt: attempt.submittedAt.toISOString(),
      failedAt: failedAt.toISOString(),
    });
    // The cause (the dead-lettered quiz.completed) has the id of the SUBMITTED row; this row names what it published.
    await recordTransition(tx, attemptId, {
      from: 'SUBMITTED',
      to: 'FAILED',
      reason: COMPENSATION_REASON,
      eventId: published,
    });
    failed = true;
  });
  if (failed) deps.relay?.wake();
}

/** Keeps each quiz board's top the event names; the global and weekly boards are not shown with quizzes. */
export async function applyLeaderboard(deps: ConsumerDeps, event: LeaderboardUpdatedV1OrV2): Promise<DeliveryOutcome> {
  for (const board of leaderboardBoardUpdatesOf(event)) {
    if (board.board === 'quiz' && board.quizId) await applyQuizBoard(deps, { ...board, quizId: board.quizId });
  }
  return 'SUCCESS';
}

async function applyQuizBoard(deps: ConsumerDeps, event: LeaderboardUpdatedV1 & { quizId: string }): Promise<void> {
  // Only what players are shown (the snapshot contract), field by field.
  const top = event.top.slice(0, LEADERBOARD_TOP).map((entry) => ({
    rank: entry.rank,
    userId: entry.userId,
    ...(entry.displayName === undefined ? {} : { displayName: entry.displayName }),
    score: entry.score,
  }));
  // Newer snapshots only: deliveries can arrive out of order and more than once.
  const updated = await deps.prisma.$queryRaw<Array<{ publishedVersion: number | null }>>`
    UPDATE "Quiz" SET "leaderboardTop" = ${JSON.stringify(top)}::jsonb, "leaderboardUpdatedAt" = ${new Date(event.updatedAt)}, "updatedAt" = now()
    WHERE "id" = ${event.quizId}::uuid AND ("leaderboardUpdatedAt" IS NULL OR "leaderboardUpdatedAt" < ${new Date(event.updatedAt)})
    RETURNING "publishedVersion"`;
  // Every replica receives the event: when another replica (or an earlier copy) already wrote
  // this snapshot, the update matches no row, but the database holds it all the same and this
  // replica's views must go.
  const [quiz] = updated;
  await invalidatePlayerViews(deps, event.quizId, [quiz?.publishedVersion]);
}

/** A change made through any replica (its transaction committed before the event left the outbox). */
export async function applyViewChange(deps: ConsumerDeps, event: QuizViewChanged): Promise<DeliveryOutcome> {
  await invalidatePlayerViews(deps, event.quizId, event.versions);
  return 'SUCCESS';
}

/** Mounts quiz's consumers (the one shape every service's `mountConsumers` has). */
export function mountConsumers(
  app: Express,
  runtime: ServiceRuntime,
  deps: ConsumerDeps,
  pubsub: string,
  broadcastPubsub: string = BROADCAST_PUBSUB,
): void {
  const { subscriptions } = runtime;
  subscriptions.add(app, {
    pubsub,
    topic: scoreCalculated.topic,
    schema: scoreCalculated.schema,
    requireEventId: true,
    handler: (event, envelope) => applyScore(deps, event, envelope),
  });
  subscriptions.add(app, {
    pubsub: broadcastPubsub,
    topic: leaderboardUpdated.topic,
    // Version 1 too: an evaluation pod of an earlier release still publishes it during a rolling update.
    schema: leaderboardUpdatedV1OrV2,
    handler: (event) => applyLeaderboard(deps, event),
  });
  subscriptions.add(app, {
    pubsub: broadcastPubsub,
    topic: quizViewChanged.topic,
    schema: quizViewChanged.schema,
    handler: (event) => applyViewChange(deps, event),
  });
}

/**
 * What quiz does with a dead letter as it is stored: quiz.completed is evaluation's to consume,
 * its dead letters are quiz's to compensate (the attempt is marked failed).
 */
export function compensateDeadLetter(
  deps: ConsumerDeps,
): (topic: string, deadLetter: DeadLetterEvent) => Promise<void> {
  return async (topic, deadLetter) => {
    if (topic === quizCompleted.topic) await compensateUnscoredAttempt(deps, deadLetter);
  };
}
