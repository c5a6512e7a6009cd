/**
 * Evaluation's event consumers (declared in components/common/subscriptions-evaluation.yaml):
 *  - quiz.published → keep the version's answer key (immutable once stored);
 *  - user.registered → keep the display name for leaderboards;
 *  - user.renamed → rename the player, re-announce the tops that show them;
 *  - quiz.completed → score the attempt once, store the result, raise the boards, publish
 *    score.calculated and (when a top changed) leaderboard.updated through the outbox, all in
 *    one transaction; then update the sorted sets. No answer key stored → read from quiz
 *    (answer-keys.ts, decision 1080); none there either (or quiz unreachable) → RETRY.
 * What Dapr gives up on (<topic>.deadletter) is kept by the platform's dead-letter helper,
 * mounted in app.ts for the topics the registry says it consumes (decisions 0303, 0600).
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { DeliveryOutcome, EventEnvelope, ServiceRuntime } from '@quizmesh/platform';
import {
  enqueueAll,
  outboxEvent,
  outboxInsert,
  type EnqueueOptions,
  type OutboxEventRow,
  type OutboxSql,
} from '@quizmesh/platform/outbox';
import type { LeaderboardEntry } from '@quizmesh/contracts/evaluation-api';
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
import { boardKey, boardRefOf, boardsOf, BOARD_TIME_SPAN, type BoardRef } from './leaderboard/score';
import {
  boardScoreOf,
  ranksWithin,
  storeUpdatesOf,
  topFromDatabase,
  type RankedAttempt,
} from './leaderboard/leaderboards';
import type { PrismaClient, Tx } from './db';
import type { LeaderboardStore } from './leaderboard';
import { AnswerKeys, storeAnswerKey } from './answer-keys';
import { scoreAttempt } from './scoring';

export const SCORING_CONSUMER = 'evaluation.score-attempt';

export interface ConsumerDeps {
  prisma: PrismaClient;
  store: LeaderboardStore;
  logger: Logger;
  /** wakes the outbox relay after a commit with events */
  relay?: { wake(): void };
  /** depth of leaderboard.updated (LEADERBOARD_EVENT_TOP) */
  eventTop: number;
  /**
   * answer keys kept in process (one per app), a missing one read from quiz; without it every
   * scoring reads the stored key, and only that
   */
  answerKeys?: AnswerKeys;
}

export async function keepAnswerKey(deps: ConsumerDeps, event: QuizPublished): Promise<DeliveryOutcome> {
  const stored = await storeAnswerKey(deps.prisma, event);
  deps.logger.info({ quizId: event.quizId, version: event.version, stored }, 'answer key received');
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

/** leaderboard.updated with a board's current top, ready for the outbox. */
function topAnnouncement(
  ref: BoardRef,
  top: LeaderboardEntry[],
  updatedAt: Date,
  trace: EnqueueOptions,
): OutboxEventRow {
  return outboxEvent(
    leaderboardUpdated,
    {
      schemaVersion: 1,
      board: ref.kind,
      ...(ref.kind === 'quiz' ? { quizId: ref.quizId } : {}),
      ...(ref.kind === 'weekly' ? { period: ref.isoWeek } : {}),
      top: top.map((e) => ({
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

/** Writes leaderboard.updated with the board's current top to the outbox (inside the caller's transaction). */
async function announceTop(
  tx: Tx,
  ref: BoardRef,
  depth: number,
  updatedAt: Date,
  trace: EnqueueOptions,
): Promise<void> {
  await enqueueAll(tx, [topAnnouncement(ref, await topFromDatabase(tx, boardKey(ref), depth), updatedAt, trace)]);
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
  | { kind: 'already-scored' }
  /** `ranked`: what the sorted sets need, undefined for a late attempt (not ranked) */
  | { kind: 'scored'; ranked?: { attempt: RankedAttempt; boardScore: number } };

/**
 * Scores a quiz.completed event; see the module comment for the guarantees. One statement, so
 * no transaction to hold open (decisions 0890, 1020): the event recorded as processed,
 * the result, score.calculated, the raised board entries, and leaderboard.updated for every
 * raised board whose new top shows the player.
 */
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

  // Read before the transaction: a key, once stored, never changes (answer-keys.ts).
  const key = await (deps.answerKeys ?? new AnswerKeys(prisma)).get(quizId, event.quizVersion);
  // Nothing is marked processed, so the redelivery scores it.
  if (!key) return noAnswerKey(logger, envelope.id, attemptId, quizId, event.quizVersion);

  const scored = scoreAttempt(key.questions, event);
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
  const scoreEvent = outboxEvent(
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
  const attempt: RankedAttempt = { attemptId, quizId, userId, score: scored.score, finishedAt };
  // A late attempt is not ranked: it enters no board.
  const boardScore = scored.late ? undefined : boardScoreOf(attempt, logger);
  const refs = boardScore === undefined ? [] : boardsOf(quizId, finishedAt);

  // leaderboard.updated of each board the attempt enters, its top filled in by the statement
  // (for the raised boards whose new top shows the player; the others are not written).
  const announcements = refs.map((ref) => ({
    board: boardKey(ref),
    row: topAnnouncement(ref, [], calculatedAt, trace),
  }));
  const recorded = await recordScore(prisma, deps.eventTop, {
    eventId: envelope.id,
    attempt: scoredAttempt,
    breakdown: scored.breakdown,
    startedAt: new Date(event.startedAt),
    finishedAt,
    calculatedAt,
    scoreEvent,
    boardScore,
    announcements,
  });
  const outcome: ScoringOutcome = recorded
    ? { kind: 'scored', ...(boardScore === undefined ? {} : { ranked: { attempt, boardScore } }) }
    : { kind: 'already-scored' };

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

function noAnswerKey(
  logger: Logger,
  eventId: string,
  attemptId: string,
  quizId: string,
  quizVersion: number,
): DeliveryOutcome {
  logger.warn(
    { eventId, attemptId, quizId, quizVersion },
    'no answer key for this quiz version yet (quiz.published not received, none read from quiz): retry',
  );
  return 'RETRY';
}

/**
 * One statement: marks the event processed (consumeOnce), inserts the result, writes
 * score.calculated, raises the player's board entries, and writes leaderboard.updated for each
 * raised board whose new top `depth` shows the player, each step only when the one before it
 * happened; true when the result was recorded. The attempt id is the result's primary key:
 * another event for the same attempt (quiz re-sent it under a new id) inserts nothing and
 * publishes nothing.
 *
 * The tops: a statement's parts all read the snapshot it started with, so a raised board's top
 * is read as its other entries plus the player's new one (the raise is exactly that entry), in
 * topFromDatabase's order, and each entry is written as topAnnouncement writes it (rank, user,
 * name when known, and score and finish time decoded from the board score as
 * decodeBoardScore does) into the announcement's `top`, which is otherwise checked and built
 * by outboxEvent in the caller.
 */
async function recordScore(
  sql: OutboxSql,
  depth: number,
  score: {
    eventId: string;
    attempt: {
      attemptId: string;
      quizId: string;
      quizVersion: number;
      userId: string;
      score: number;
      maxScore: number;
      correctCount: number;
      questionCount: number;
      late: boolean;
    };
    breakdown: unknown;
    startedAt: Date;
    finishedAt: Date;
    calculatedAt: Date;
    scoreEvent: OutboxEventRow;
    boardScore: number | undefined;
    /** leaderboard.updated of each board the attempt enters, with an empty top */
    announcements: Array<{ board: string; row: OutboxEventRow }>;
  },
): Promise<boolean> {
  const { attempt } = score;
  const insertEvent = outboxInsert([score.scoreEvent], 18);
  const p = (i: number) => `$${18 + insertEvent.values.length + i}`;
  const announcements = score.announcements;
  const [row] = await sql.$queryRawUnsafe<Array<{ recorded: boolean }>>(
    `WITH processed AS (
       INSERT INTO "ProcessedEvent" ("consumer", "eventId") VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1),
     result AS (
       INSERT INTO "Result" ("attemptId", "quizId", "quizVersion", "userId", "score", "maxScore", "correctCount",
         "questionCount", "late", "breakdown", "startedAt", "finishedAt", "calculatedAt")
       SELECT $3::uuid, $4::uuid, $5::int, $6::uuid, $7::int, $8::int, $9::int, $10::int, $11::boolean, $12::jsonb,
         $13::timestamptz, $14::timestamptz, $15::timestamptz
       WHERE EXISTS (SELECT 1 FROM processed)
       ON CONFLICT DO NOTHING RETURNING 1),
     event AS (${insertEvent.sql} WHERE EXISTS (SELECT 1 FROM result)),
     raised AS (
       INSERT INTO "BoardEntry" ("board", "userId", "boardScore", "attemptId", "updatedAt")
       SELECT b, $6::uuid, $17::bigint, $3::uuid, now() FROM unnest($16::text[]) AS b
       WHERE EXISTS (SELECT 1 FROM result)
       ON CONFLICT ("board", "userId") DO UPDATE
         SET "boardScore" = EXCLUDED."boardScore", "attemptId" = EXCLUDED."attemptId", "updatedAt" = now()
         WHERE EXCLUDED."boardScore" > "BoardEntry"."boardScore"
       RETURNING "board"),
     tops AS (
       SELECT r."board", t."userId", t."boardScore", t."rank", p."displayName"
       FROM raised r
       CROSS JOIN LATERAL (
         SELECT u."userId", u."boardScore",
           row_number() OVER (ORDER BY u."boardScore" DESC, u."userId" DESC) AS "rank"
         FROM (
           -- Limited on its own, so the board's index gives the others' top (not a sort of the board).
           (SELECT x."userId", x."boardScore" FROM "BoardEntry" x WHERE x."board" = r."board" AND x."userId" <> $6::uuid
            ORDER BY x."boardScore" DESC, x."userId" DESC LIMIT ${p(0)}::int)
           UNION ALL SELECT $6::uuid, $17::bigint) AS u
         ORDER BY u."boardScore" DESC, u."userId" DESC
         LIMIT ${p(0)}::int) AS t
       LEFT JOIN "Player" p ON p."userId" = t."userId"),
     announced AS (
       INSERT INTO "OutboxEvent" ("id", "topic", "type", "data", "traceparent", "tracestate")
       SELECT a."id", a."topic", a."type", jsonb_set(a."data", '{top}', (
           SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'rank', t."rank", 'userId', t."userId"::text, 'displayName', t."displayName",
             'score', t."boardScore" / ${BOARD_TIME_SPAN},
             'finishedAt', to_char(to_timestamp(${BOARD_TIME_SPAN - 1} - t."boardScore" % ${BOARD_TIME_SPAN}) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) ORDER BY t."rank")
           FROM tops t WHERE t."board" = a."board")),
         a."traceparent", a."tracestate"
       FROM unnest(${p(1)}::text[], ${p(2)}::uuid[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::jsonb[],
         ${p(6)}::text[], ${p(7)}::text[]) AS a("board", "id", "topic", "type", "data", "traceparent", "tracestate")
       WHERE EXISTS (SELECT 1 FROM tops t WHERE t."board" = a."board" AND t."userId" = $6::uuid))
     SELECT EXISTS (SELECT 1 FROM result) AS "recorded"`,
    SCORING_CONSUMER,
    score.eventId,
    attempt.attemptId,
    attempt.quizId,
    attempt.quizVersion,
    attempt.userId,
    attempt.score,
    attempt.maxScore,
    attempt.correctCount,
    attempt.questionCount,
    attempt.late,
    JSON.stringify(score.breakdown),
    score.startedAt,
    score.finishedAt,
    score.calculatedAt,
    announcements.map((a) => a.board),
    score.boardScore === undefined ? null : String(score.boardScore),
    ...insertEvent.values,
    depth,
    announcements.map((a) => a.board),
    announcements.map((a) => a.row.id),
    announcements.map((a) => a.row.topic),
    announcements.map((a) => a.row.type),
    announcements.map((a) => a.row.data),
    announcements.map((a) => a.row.traceparent),
    announcements.map((a) => a.row.tracestate),
  );
  return row?.recorded === true;
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
