/**
 * Evaluation's event consumers (declared in components/common/subscriptions-evaluation.yaml):
 *  - quiz.published → keep the version's answer key (immutable once stored);
 *  - user.registered → keep the display name for leaderboards;
 *  - quiz.completed → score the attempt once, store the result, raise the boards, publish
 *    score.calculated and (when a top changed) leaderboard.updated through the outbox, all in
 *    one transaction; then update the sorted sets. No answer key yet → RETRY.
 * What Dapr gives up on (<topic>.deadletter) is kept by the platform's dead-letter helper,
 * mounted in app.ts for the topics the registry says it consumes (decisions 0303, 0600).
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { DeliveryOutcome, EventEnvelope, ServiceRuntime } from '@quizmesh/platform';
import { consumeOnce, enqueue } from '@quizmesh/platform/outbox';
import {
  leaderboardUpdated,
  quizCompleted,
  quizPublished,
  scoreCalculated,
  userRegistered,
  type QuizCompleted,
  type QuizPublished,
  type UserRegistered,
} from '@quizmesh/contracts/events';
import { boardKey } from './board-score';
import {
  boardScoreOf,
  raiseBoardEntries,
  ranksWithin,
  storeUpdatesOf,
  topFromDatabase,
  type RankedAttempt,
} from './boards';
import type { PrismaClient } from './db';
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
  await deps.prisma.player.upsert({
    where: { userId },
    create: { userId, displayName: event.displayName, registeredAt },
    update: {},
  });
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
  if (envelope.id === '') {
    logger.warn({ topic: quizCompleted.topic }, 'quiz.completed without an event id cannot be deduplicated; dropped');
    return 'DROP';
  }
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
    // The attempt id is the primary key: another event for the same attempt (quiz re-sent it
    // under a new id) inserts nothing, and this delivery publishes nothing.
    const { count } = await tx.result.createMany({
      data: [
        {
          attemptId,
          quizId,
          quizVersion: event.quizVersion,
          userId,
          score: scored.score,
          maxScore: scored.maxScore,
          correctCount: scored.correctCount,
          questionCount: scored.questionCount,
          late: scored.late,
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
        attemptId,
        quizId,
        quizVersion: event.quizVersion,
        userId,
        score: scored.score,
        maxScore: scored.maxScore,
        correctCount: scored.correctCount,
        questionCount: scored.questionCount,
        finishedAt: finishedAt.toISOString(),
        calculatedAt: calculatedAt.toISOString(),
        late: scored.late,
      },
      trace,
    );
    let events = 1;
    if (scored.late) return { kind: 'scored', events };

    const attempt: RankedAttempt = { attemptId, quizId, userId, score: scored.score, finishedAt };
    const boardScore = boardScoreOf(attempt, logger);
    for (const ref of await raiseBoardEntries(tx, attempt, boardScore)) {
      const board = boardKey(ref);
      if (!(await ranksWithin(tx, board, userId, boardScore, deps.eventTop))) continue;
      await enqueue(
        tx,
        leaderboardUpdated,
        {
          schemaVersion: 1,
          board: ref.kind,
          ...(ref.kind === 'quiz' ? { quizId: ref.quizId } : {}),
          ...(ref.kind === 'weekly' ? { period: ref.isoWeek } : {}),
          top: (await topFromDatabase(tx, board, deps.eventTop)).map((e) => ({
            rank: e.rank,
            userId: e.userId,
            ...(e.displayName !== null ? { displayName: e.displayName } : {}),
            score: e.score,
            finishedAt: e.finishedAt,
          })),
          updatedAt: calculatedAt.toISOString(),
        },
        trace,
      );
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
  if (outcome.kind === 'scored') deps.relay?.wake();
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
    topic: quizCompleted.topic,
    schema: quizCompleted.schema,
    handler: (event, envelope) => scoreCompletedAttempt(deps, event, envelope),
  });
}
