/**
 * Evaluation's event consumers (declared in components/common/subscriptions-evaluation.yaml):
 *  - quiz.published → keep the version's answer key (immutable once stored);
 *  - user.registered → keep the display name for leaderboards;
 *  - user.renamed → rename the player, re-announce the tops that show them;
 *  - quiz.completed → score the attempt once, store the result, raise the boards, publish
 *    score.calculated and (when a top changed) one leaderboard.updated naming every changed
 *    board through the outbox, all in one transaction; then update the sorted sets. No answer
 *    key stored → read from quiz (answer-keys.ts, decision 1080); none there either (or quiz
 *    unreachable) → RETRY.
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
  LEADERBOARD_UPDATED_MAX_BOARDS,
  leaderboardUpdated,
  quizCompleted,
  quizPublished,
  scoreCalculated,
  userRenamed,
  userRegistered,
  type QuizCompleted,
  type LeaderboardUpdated,
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
import type { PrismaClient } from './db';
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

type BoardUpdate = LeaderboardUpdated['boards'][number];

/** One board of leaderboard.updated with its current top. */
function boardUpdate(ref: BoardRef, top: LeaderboardEntry[]): BoardUpdate {
  return {
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
  };
}

/** leaderboard.updated naming `boards` (at most LEADERBOARD_UPDATED_MAX_BOARDS), ready for the outbox. */
function boardsAnnouncement(boards: BoardUpdate[], updatedAt: Date, trace: EnqueueOptions): OutboxEventRow {
  return outboxEvent(leaderboardUpdated, { schemaVersion: 2, boards, updatedAt: updatedAt.toISOString() }, trace);
}

/** The boards in events of at most LEADERBOARD_UPDATED_MAX_BOARDS each, ready for the outbox. */
export function boardsAnnouncements(boards: BoardUpdate[], updatedAt: Date, trace: EnqueueOptions): OutboxEventRow[] {
  const rows: OutboxEventRow[] = [];
  for (let i = 0; i < boards.length; i += LEADERBOARD_UPDATED_MAX_BOARDS) {
    rows.push(boardsAnnouncement(boards.slice(i, i + LEADERBOARD_UPDATED_MAX_BOARDS), updatedAt, trace));
  }
  return rows;
}

/**
 * Renames the player when the event's name is newer than the one held (deliveries may arrive
 * late, twice or out of order: the conditional write makes each harmless), and re-announces
 * every board whose published top shows them (in one leaderboard.updated, or several of at most
 * LEADERBOARD_UPDATED_MAX_BOARDS boards each), so the quiz pages and live boards show the new
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
    const entries = await tx.boardEntry.findMany({
      where: { userId },
      select: { board: true, boardScore: true },
      orderBy: { board: 'asc' },
    });
    const shown: BoardUpdate[] = [];
    for (const entry of entries) {
      if (!(await ranksWithin(tx, entry.board, userId, Number(entry.boardScore), deps.eventTop))) continue;
      shown.push(boardUpdate(boardRefOf(entry.board), await topFromDatabase(tx, entry.board, deps.eventTop)));
    }
    // One event for all of them, or several when the player is in more tops than one event names.
    await enqueueAll(tx, boardsAnnouncements(shown, new Date(), { traceparent: envelope.traceparent }));
    return shown.length;
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
 * the result, score.calculated, the raised board entries, and one leaderboard.updated naming
 * every raised board whose new top shows the player.
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

  // leaderboard.updated naming each board the attempt enters: the statement keeps the raised
  // boards whose new top shows the player, fills in their tops, and writes nothing when none is left.
  const announcement =
    refs.length === 0
      ? undefined
      : {
          boards: refs.map(boardKey),
          row: boardsAnnouncement(
            refs.map((ref) => boardUpdate(ref, [])),
            calculatedAt,
            trace,
          ),
        };
  const recorded = await recordScore(prisma, deps.eventTop, {
    eventId: envelope.id,
    attempt: scoredAttempt,
    breakdown: scored.breakdown,
    startedAt: new Date(event.startedAt),
    finishedAt,
    calculatedAt,
    scoreEvent,
    boardScore,
    announcement,
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
 * score.calculated, raises the player's board entries, and writes one leaderboard.updated naming
 * each raised board whose new top `depth` shows the player (none when no board is left), each
 * step only when the one before it happened; true when the result was recorded. The attempt id is the result's primary key:
 * another event for the same attempt (quiz re-sent it under a new id) inserts nothing and
 * publishes nothing.
 *
 * The tops: a statement's parts all read the snapshot it started with, so a raised board's top
 * is read as its other entries plus the player's new one (the raise is exactly that entry), in
 * topFromDatabase's order, and each entry is written as boardUpdate writes it (rank, user,
 * name when known, and score and finish time decoded from the board score as
 * decodeBoardScore does) into the `top` of the board's entry in the announcement's `boards`;
 * the announcement is otherwise checked and built by outboxEvent in the caller, with every
 * board the attempt enters, in the order of `boards` (the statement keeps their order).
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
    /**
     * leaderboard.updated naming every board the attempt enters, with empty tops, and those
     * boards' keys in the same order; undefined for an attempt that enters none
     */
    announcement: { boards: string[]; row: OutboxEventRow } | undefined;
  },
): Promise<boolean> {
  const { attempt } = score;
  const insertEvent = outboxInsert([score.scoreEvent], 18);
  const p = (i: number) => `$${18 + insertEvent.values.length + i}`;
  const announcement = score.announcement;
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
     shown AS (
       -- The announcement's entries of the boards whose new top shows the player, in its order, with their tops.
       SELECT jsonb_agg((${p(3)}::jsonb -> 'boards' -> (a."ord"::int - 1)) || jsonb_build_object('top', (
           SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'rank', t."rank", 'userId', t."userId"::text, 'displayName', t."displayName",
             'score', t."boardScore" / ${BOARD_TIME_SPAN},
             'finishedAt', to_char(to_timestamp(${BOARD_TIME_SPAN - 1} - t."boardScore" % ${BOARD_TIME_SPAN}) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) ORDER BY t."rank")
           FROM tops t WHERE t."board" = a."board")) ORDER BY a."ord") AS "boards"
       FROM unnest(${p(1)}::text[]) WITH ORDINALITY AS a("board", "ord")
       WHERE EXISTS (SELECT 1 FROM tops t WHERE t."board" = a."board" AND t."userId" = $6::uuid)),
     announced AS (
       INSERT INTO "OutboxEvent" ("id", "topic", "type", "data", "traceparent", "tracestate")
       SELECT ${p(2)}::uuid, ${p(4)}::text, ${p(5)}::text, jsonb_set(${p(3)}::jsonb, '{boards}', s."boards"),
         ${p(6)}::text, ${p(7)}::text
       FROM shown s WHERE s."boards" IS NOT NULL)
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
    announcement?.boards ?? [],
    score.boardScore === undefined ? null : String(score.boardScore),
    ...insertEvent.values,
    depth,
    announcement?.boards ?? [],
    // With no announcement these stand in, unused: the statement writes no event without boards.
    announcement?.row.id ?? null,
    announcement?.row.data ?? null,
    announcement?.row.topic ?? null,
    announcement?.row.type ?? null,
    announcement?.row.traceparent ?? null,
    announcement?.row.tracestate ?? null,
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
