/**
 * score.calculated → the player's stats on their profile. Idempotent: the event id is
 * recorded in ProcessedEvent in the same transaction as the update, so a redelivery (Dapr is
 * at-least-once) changes nothing.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { ServiceRuntime, DeliveryOutcome, EventEnvelope } from '@quizmesh/platform';
import { consumeOnce } from '@quizmesh/platform/outbox';
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
  await prisma.$transaction(async (tx) => {
    if (!(await consumeOnce(tx, STATS_CONSUMER, envelope.id))) {
      logger.debug({ eventId: envelope.id }, 'score.calculated already applied');
      return;
    }
    // GREATEST ignores NULL: the first attempt sets the best score and the last-played time;
    // later ones only raise them (events can arrive out of order).
    const updated = await tx.$executeRawUnsafe(
      `UPDATE "User" SET "attemptsCount" = "attemptsCount" + 1,
         "bestScorePercent" = GREATEST("bestScorePercent", $2::float8),
         "lastPlayedAt" = GREATEST("lastPlayedAt", $3::timestamptz),
         "updatedAt" = now()
       WHERE "id" = $1::uuid`,
      event.userId,
      percent,
      event.finishedAt,
    );
    if (updated === 0) logger.warn({ eventId: envelope.id, userId: event.userId }, 'score for an unknown user ignored');
  });
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
