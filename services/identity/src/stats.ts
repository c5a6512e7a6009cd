/**
 * score.calculated → the player's stats on their profile. Idempotent: the event id is
 * recorded in ProcessedEvent in the same statement as the update, so a redelivery (Dapr is
 * at-least-once) changes nothing.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { ServiceRuntime, DeliveryOutcome, EventEnvelope } from '@quizmesh/platform';
import { scoreCalculated, type ScoreCalculated } from '@quizmesh/contracts/events';
import type { PrismaClient } from './db';

export const STATS_CONSUMER = 'identity.player-stats';

export async function applyScore(
  prisma: PrismaClient,
  logger: Logger,
  event: ScoreCalculated,
  envelope: Pick<EventEnvelope, 'id'>,
): Promise<DeliveryOutcome> {
  const percent = Math.round((event.score / event.maxScore) * 10_000) / 100;
  // One statement (decision 0890): the event is marked processed and the stats updated together.
  // GREATEST ignores NULL: the first attempt sets the best score and the last-played time;
  // later ones only raise them (events can arrive out of order).
  const [row] = await prisma.$queryRawUnsafe<Array<{ fresh: boolean; updated: boolean }>>(
    `WITH processed AS (
       INSERT INTO "ProcessedEvent" ("consumer", "eventId") VALUES ($4, $5) ON CONFLICT DO NOTHING RETURNING 1),
     updated AS (
       UPDATE "User" SET "attemptsCount" = "attemptsCount" + 1,
         "bestScorePercent" = GREATEST("bestScorePercent", $2::float8),
         "lastPlayedAt" = GREATEST("lastPlayedAt", $3::timestamptz),
         "updatedAt" = now()
       WHERE "id" = $1::uuid AND EXISTS (SELECT 1 FROM processed)
       RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM processed) AS "fresh", EXISTS (SELECT 1 FROM updated) AS "updated"`,
    event.userId,
    percent,
    event.finishedAt,
    STATS_CONSUMER,
    envelope.id,
  );
  if (!row?.fresh) logger.debug({ eventId: envelope.id }, 'score.calculated already applied');
  else if (!row.updated)
    logger.warn({ eventId: envelope.id, userId: event.userId }, 'score for an unknown user ignored');
  return 'SUCCESS';
}

/** Mounts identity's consumers (the one shape every service's `mountConsumers` has). */
export function mountConsumers(
  app: Express,
  runtime: ServiceRuntime,
  deps: { prisma: PrismaClient },
  pubsub: string,
): void {
  const { prisma } = deps;
  runtime.subscriptions.add(app, {
    pubsub,
    topic: scoreCalculated.topic,
    schema: scoreCalculated.schema,
    requireEventId: true,
    handler: (event, envelope) => applyScore(prisma, runtime.logger, event, envelope),
  });
}
