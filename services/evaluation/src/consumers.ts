/**
 * Evaluation's event consumers (declared in components/common/subscriptions-evaluation.yaml):
 *  - quiz.published → keep the version's answer key (immutable once stored);
 *  - user.registered → keep the display name for leaderboards;
 *  - user.renamed → rename the player, re-announce the tops that show them;
 *  - quiz.completed → score the attempt once, store the result, raise the boards, publish
 *    score.calculated and (when a top changed) leaderboard.updated through the outbox, all in
 *    one transaction; then update the sorted sets. No answer key yet → RETRY.
 * What Dapr gives up on (<topic>.deadletter) is kept by the platform's dead-letter helper,
 * mounted in app.ts for the topics the registry says it consumes (decisions 0303, 0600).
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { DeliveryOutcome, EventEnvelope, ServiceRuntime } from '@quizmesh/platform';
import { consumeOnce, enqueue, type EnqueueOptions } from '@quizmesh/platform/outbox';
import { recordScoringLag } from '@quizmesh/platform/telemetry';
import {
  leaderboardUpdated,
  quizCompleted,
  quizPublished,
  scoreCalculated,
  userRenamed,
  userRegistered,
  type QuizCompleted,
  type QuizPublished,
  type UserRenamed,
  type UserRegistered,
} from '@quizmesh/contracts/events';
import { boardKey, boardRefOf, type BoardRef } from './leaderboard/score';
import {
  boardScoreOf,
  raiseBoardEntries,
  ranksWithin,
  storeUpdatesOf,
  topFromDatabase,
  type RankedAttempt,
} from './leaderboard/leaderboards';
import type { PrismaClient, Tx } from './db';
import type { LeaderboardStore } from './leaderboard';
import { answerKeyOf, keyedQuestionsSchema, scoreAttempt } from './scoring';

export const SCORING_CONSUMER = 'evaluation.score-attempt';

export interface ConsumerDeps {
  prisma: PrismaClient;
  store: LeaderboardStore;
  logger: Logger;
  /** wakes the outbox relay after a commit with events */
  relay?: { wake(): void };
  /** depth of leaderboard.updated (LEADERBOARD_EVENT_TOP) */
  eventTop: number;
}

export async function keepAnswerKey(deps: ConsumerDeps, event: QuizPublished): Promise<DeliveryOutcome> {
  const questions = answerKeyOf(event);
  // A version's key never changes: a redelivery (or a replayed older copy) finds it stored and keeps it.
  const { count } = await deps.prisma.answerKey.createMany({
    data: [
      {
        quizId: event.quizId.toLowerCase(),
        version: event.version,
        title: event.title,
        maxScore: questions.reduce((sum, q) => sum + q.points, 0),
        questions,
        publishedAt: new Date(event.publishedAt),
      },
    ],
    skipDuplicates: true,
  });
  deps.logger.info({ quizId: event.quizId, version: event.version, stored: count === 1 }, 'answer key received');
  return 'SUCCESS';
}

export async function keepDisplayName(deps: ConsumerDeps, event: UserRegistered): Promise<DeliveryOutcome> {
  const userId = event.userId.toLowerCase();
  const registeredAt = new Date(event.registeredAt);
  // A rename that arrived first holds a newer name: the registration then changes nothing.
  await deps.prisma.player.upsert({
    where: { userId },
    create: { userId, displayName: event.displayName, registeredAt, nameChangedAt: registeredAt },
    update: {},
  });
  return 'SUCCESS';
}

/** Writes leaderboard.updated with the board's current top to the outbox (inside the caller's transaction). */
async function announceTop(
  tx: Tx,
  ref: BoardRef,
  depth: number,
  updatedAt: Date,
  trace: EnqueueOptions,
): Promise<void> {
  await enqueue(
    tx,
    leaderboardUpdated,
    {
      schemaVersion: 1,
      board: ref.kind,
      ...(ref.kind === 'quiz' ? { quizId: ref.quizId } : {}),
      ...(ref.kind === 'weekly' ? { period: ref.isoWeek } : {}),
      top: (await topFromDatabase(tx, boardKey(ref), depth)).map((e) => ({
        rank: e.rank,
        userId: e.userId,
        ...(e.displayName !== null ? { displayName: e.displayName } : {}),
        score: e.score,
        finishedAt: e.finishedAt,
      })),
      updatedAt: updatedAt.toISOString(),
    },
    trace,
  );
}

/**
 * Renames the player when the event's name is newer than the one held (deliveries may arrive
 * late, twice or out of order: the conditional write makes each harmless), and re-announces
 * every board whose published top shows them, so the quiz pages and live boards show the new
 * name too. A rename of a player evaluation has not seen yet creates them (user.registered,
 * arriving later, keeps the newer name).
 */
export async function renamePlayer(
  deps: ConsumerDeps,
  event: UserRenamed,
  envelope: Pick<EventEnvelope, 'traceparent'>,
): Promise<DeliveryOutcome> {
  const userId = event.userId.toLowerCase();
  const changedAt = new Date(event.changedAt);
  const announced = await deps.prisma.$transaction(async (tx) => {
    const renamed = await tx.$queryRaw<Array<{ userId: string }>>`
      INSERT INTO "Player" ("userId", "displayName", "registeredAt", "nameChangedAt", "updatedAt")
      VALUES (${userId}::uuid, ${event.displayName}, ${changedAt}, ${changedAt}, now())
      ON CONFLICT ("userId") DO UPDATE
        SET "displayName" = EXCLUDED."displayName", "nameChangedAt" = EXCLUDED."nameChangedAt", "updatedAt" = now()
        WHERE "Player"."nameChangedAt" < EXCLUDED."nameChangedAt"
      RETURNING "userId"::text AS "userId"`;
    if (renamed.length === 0) return 0;
    const entries = await tx.boardEntry.findMany({ where: { userId }, select: { board: true, boardScore: true } });
    const now = new Date();
    let count = 0;
    for (const entry of entries) {
      if (!(await ranksWithin(tx, entry.board, userId, Number(entry.boardScore), deps.eventTop))) continue;
      await announceTop(tx, boardRefOf(entry.board), deps.eventTop, now, { traceparent: envelope.traceparent });
      count += 1;
    }
    return count;
  });
  if (announced > 0) deps.relay?.wake();
  deps.logger.info({ userId, boardsAnnounced: announced }, 'user.renamed handled');
  return 'SUCCESS';
}

type ScoringOutcome =
  | { kind: 'no-answer-key' }
  | { kind: 'already-scored' }
  /** `ranked`: what the sorted sets need, undefined for a late attempt (not ranked) */
  | { kind: 'scored'; events: number; ranked?: { attempt: RankedAttempt; boardScore: number } };

/** Scores a quiz.completed event; see the module comment for the guarantees. */
export async function scoreCompletedAttempt(
  deps: ConsumerDeps,
  event: QuizCompleted,
  envelope: Pick<EventEnvelope, 'id' | 'traceparent'>,
): Promise<DeliveryOutcome> {
  const { prisma, logger } = deps;
  const attemptId = event.attemptId.toLowerCase();
  const quizId = event.quizId.toLowerCase();
  const userId = event.userId.toLowerCase();
  const finishedAt = new Date(event.submittedAt);
  const trace = { traceparent: envelope.traceparent };

  const outcome = await prisma.$transaction(async (tx): Promise<ScoringOutcome> => {
    const key = await tx.answerKey.findUnique({ where: { quizId_version: { quizId, version: event.quizVersion } } });
    // Checked before consumeOnce, so nothing is marked and the redelivery scores it.
    if (!key) return { kind: 'no-answer-key' };
    if (!(await consumeOnce(tx, SCORING_CONSUMER, envelope.id))) return { kind: 'already-scored' };

    const scored = scoreAttempt(keyedQuestionsSchema.parse(key.questions), event);
    const calculatedAt = new Date();
    // What the result row and score.calculated both say about the attempt.
    const scoredAttempt = {
      attemptId,
      quizId,
      quizVersion: event.quizVersion,
      userId,
      score: scored.score,
      maxScore: scored.maxScore,
      correctCount: scored.correctCount,
      questionCount: scored.questionCount,
      late: scored.late,
    };
    // The attempt id is the primary key: another event for the same attempt (quiz re-sent it
    // under a new id) inserts nothing, and this delivery publishes nothing.
    const { count } = await tx.result.createMany({
      data: [
        {
          ...scoredAttempt,
          breakdown: JSON.parse(JSON.stringify(scored.breakdown)) as object,
          startedAt: new Date(event.startedAt),
          finishedAt,
          calculatedAt,
        },
      ],
      skipDuplicates: true,
    });
    if (count === 0) return { kind: 'already-scored' };

    await enqueue(
      tx,
      scoreCalculated,
      {
        schemaVersion: 1,
        ...scoredAttempt,
        finishedAt: finishedAt.toISOString(),
        calculatedAt: calculatedAt.toISOString(),
        quizTitle: key.title,
        questions: scored.breakdown.map((q) => ({
          questionId: q.questionId,
          correct: q.correct,
          pointsAwarded: q.earned,
        })),
      },
      trace,
    );
    let events = 1;
    if (scored.late) return { kind: 'scored', events };

    const attempt: RankedAttempt = { attemptId, quizId, userId, score: scored.score, finishedAt };
    const boardScore = boardScoreOf(attempt, logger);
    for (const ref of await raiseBoardEntries(tx, attempt, boardScore)) {
      if (!(await ranksWithin(tx, boardKey(ref), userId, boardScore, deps.eventTop))) continue;
      await announceTop(tx, ref, deps.eventTop, calculatedAt, trace);
      events += 1;
    }
    return { kind: 'scored', events, ranked: { attempt, boardScore } };
  });

  if (outcome.kind === 'no-answer-key') {
    logger.warn(
      { eventId: envelope.id, attemptId, quizId, quizVersion: event.quizVersion },
      'no answer key for this quiz version yet (quiz.published not received): retry',
    );
    return 'RETRY';
  }
  if (outcome.kind === 'scored') {
    deps.relay?.wake();
    // Once per attempt (a redelivery is 'already-scored'): submitted → score committed.
    recordScoringLag((Date.now() - finishedAt.getTime()) / 1000);
  }
  // Also on a redelivery: if the process died after the commit and before this update, the
  // redelivered event repairs the sorted sets (ZADD GT makes the repeat harmless).
  if (outcome.kind === 'scored') {
    if (outcome.ranked) await deps.store.record(storeUpdatesOf(outcome.ranked.attempt, outcome.ranked.boardScore));
  } else {
    await syncStore(deps, attemptId);
  }
  logger.info({ eventId: envelope.id, attemptId, outcome: outcome.kind }, 'quiz.completed handled');
  return 'SUCCESS';
}

/** Brings the sorted sets up to the stored result (a redelivery of an already scored attempt). */
async function syncStore(deps: ConsumerDeps, attemptId: string): Promise<void> {
  const result = await deps.prisma.result.findUnique({
    where: { attemptId },
    select: { attemptId: true, quizId: true, userId: true, score: true, finishedAt: true, late: true },
  });
  if (!result || result.late) return;
  await deps.store.record(storeUpdatesOf(result, boardScoreOf(result)));
}

export function mountConsumers(app: Express, runtime: ServiceRuntime, deps: ConsumerDeps, pubsub: string): void {
  runtime.subscriptions.add(app, {
    pubsub,
    topic: quizPublished.topic,
    schema: quizPublished.schema,
    handler: (event) => keepAnswerKey(deps, event),
  });
  runtime.subscriptions.add(app, {
    pubsub,
    topic: userRegistered.topic,
    schema: userRegistered.schema,
    handler: (event) => keepDisplayName(deps, event),
  });
  runtime.subscriptions.add(app, {
    pubsub,
    topic: userRenamed.topic,
    schema: userRenamed.schema,
    handler: (event, envelope) => renamePlayer(deps, event, envelope),
  });
  runtime.subscriptions.add(app, {
    pubsub,
    topic: quizCompleted.topic,
    schema: quizCompleted.schema,
    requireEventId: true,
    handler: (event, envelope) => scoreCompletedAttempt(deps, event, envelope),
  });
}
