/**
 * The events that drop answers the gateway keeps (decision 1000), on every replica through the
 * broadcast component: each kept operation's `gatewayCache.purgedBy` in the registry names the
 * topics and the field of their data that holds the key. `quiz.view.changed` is subscribed here;
 * `leaderboard.updated` also feeds the live stream, whose handler calls `onEvent` too, once per
 * board the event names with that board's version-1 payload (stream/consumers.ts). Deliveries come only from the gateway's sidecar (`sidecarOnly`, app.ts).
 */
import type { Express } from 'express';
import { z } from 'zod';
import type { ServiceRuntime } from '@quizmesh/platform';
import { unwrapDeadLetter } from '@quizmesh/platform/deadletters';
import { PUBSUB_NAME, quizViewChanged } from '@quizmesh/contracts/events';
import { SYSTEM, systemOperations, type AppRegistration } from '@quizmesh/contracts/system';
import type { ResponseCache } from './response-cache';

export interface CachePurges {
  /** drops the kept answers an event of `topic` names (a topic that names none is ignored) */
  onEvent(topic: string, data: unknown): void;
}

/** Per topic, the fields of its data that hold keys of kept answers. */
export function purgeFieldsByTopic(system: readonly AppRegistration[] = SYSTEM): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const op of systemOperations(system)) {
    for (const { topic, field } of op.gatewayCache?.purgedBy ?? []) {
      const known = fields.get(topic) ?? [];
      if (!known.includes(field)) fields.set(topic, [...known, field]);
    }
  }
  return fields;
}

export function cachePurges(cache: Pick<ResponseCache, 'purge'>, fields = purgeFieldsByTopic()): CachePurges {
  return {
    onEvent(topic, data) {
      for (const field of fields.get(topic) ?? []) {
        const key = (data as Record<string, unknown>)[field];
        if (typeof key === 'string') cache.purge(key);
      }
    },
  };
}

export function mountCachePurges(
  app: Express,
  runtime: ServiceRuntime,
  cache: Pick<ResponseCache, 'purge'>,
  options: { broadcastPubsub: string },
): CachePurges {
  const purges = cachePurges(cache);
  runtime.subscriptions.add(app, {
    pubsub: options.broadcastPubsub,
    topic: quizViewChanged.topic,
    schema: quizViewChanged.schema,
    handler: async (data) => {
      purges.onEvent(quizViewChanged.topic, data);
      return 'SUCCESS';
    },
  });
  // Dead-lettered only if this replica kept failing to take it: its kept answers expire with
  // RESPONSE_CACHE_MAX_AGE_S; nothing to replay.
  runtime.subscriptions.add(app, {
    pubsub: PUBSUB_NAME,
    topic: `${quizViewChanged.topic}.deadletter`,
    schema: z.unknown(),
    handler: async (_data, envelope) => {
      const { eventId, event } = unwrapDeadLetter(envelope.raw);
      runtime.logger.warn(
        { topic: quizViewChanged.topic, eventId, type: event.type, source: event.source },
        'cache purge event dead-lettered; kept answers expire with their age limit',
      );
      return 'SUCCESS';
    },
  });
  return purges;
}
