/**
 * What feeds the live stream: `leaderboard.updated` to every stream (one `leaderboard` event per
 * board it names, each the version-1 payload, decision 1070), `notification.created` to
 * its recipient's streams (Subscriptions in components/common/subscriptions-gateway.yaml; on
 * Kubernetes the chart routes both through the per-pod broadcast component). A replica with no
 * open streams still acknowledges: the push is best effort, the services keep the state.
 *
 * The gateway is the public entry, so `/events/*` answers only its own sidecar: a forged
 * delivery would otherwise push made-up notifications to any user.
 */
import type { Express, RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, sameSecret, type ServiceRuntime } from '@quizmesh/platform';
import { unwrapDeadLetter } from '@quizmesh/platform/deadletters';
import { recordStreamingLag } from '@quizmesh/platform/telemetry';
import {
  leaderboardBoardKeyOf,
  leaderboardBoardUpdatesOf,
  leaderboardUpdated,
  leaderboardUpdatedV1OrV2,
  notificationCreated,
  PUBSUB_NAME,
  type LeaderboardUpdatedV1,
} from '@quizmesh/contracts/events';
import type { CachePurges } from '../cache/purges';
import type { StreamHub } from './hub';

/**
 * The SSE id of one board's update: the CloudEvent id and the board (`<id>/global`,
 * `<id>/quiz:<quizId>`, `<id>/weekly:<period>`). One event names up to three boards (decision
 * 1070), and a client that drops ids it has seen (deliveries are at least once) must keep each
 * board; a redelivery gets the same ids.
 */
export function leaderboardStreamId(eventId: string, board: LeaderboardUpdatedV1): string {
  return `${eventId}/${leaderboardBoardKeyOf(board)}`;
}

export const STREAM_TOPICS = [leaderboardUpdated.topic, notificationCreated.topic] as const;

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * Deliveries come from the sidecar in the same pod, over loopback (the socket's address: no
 * forwarded header can fake it), and carry APP_API_TOKEN as `dapr-api-token` when one is set.
 * Anything else gets the same 404 as an unknown path.
 */
export function sidecarOnly(appApiToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const tokenOk = appApiToken === undefined || sameSecret(req.header('dapr-api-token') ?? '', appApiToken);
    if (!isLoopbackAddress(req.socket.remoteAddress) || !tokenOk) {
      throw AppError.notFound(`no route for ${req.method} ${req.originalUrl.split('?')[0] ?? ''}`);
    }
    next();
  };
}

export function mountStreamConsumers(
  app: Express,
  runtime: ServiceRuntime,
  hub: StreamHub,
  options: { broadcastPubsub: string; purges: CachePurges },
): void {
  runtime.subscriptions.add(app, {
    pubsub: options.broadcastPubsub,
    topic: leaderboardUpdated.topic,
    // Version 1 too: an evaluation pod of an earlier release still publishes it during a rolling update.
    schema: leaderboardUpdatedV1OrV2,
    handler: async (data, envelope) => {
      let written = 0;
      // The stream's payload stays version 1, one per board.
      for (const board of leaderboardBoardUpdatesOf(data)) {
        // The quiz player view shows the leaderboard: the gateway's kept copy goes (decision 1000).
        options.purges.onEvent(leaderboardUpdated.topic, board);
        written += hub.broadcast({ event: 'leaderboard', id: leaderboardStreamId(envelope.id, board), data: board });
      }
      // updatedAt is when evaluation committed the score that moved these tops.
      if (written > 0) recordStreamingLag((Date.now() - Date.parse(data.updatedAt)) / 1000);
      return 'SUCCESS';
    },
  });
  runtime.subscriptions.add(app, {
    pubsub: options.broadcastPubsub,
    topic: notificationCreated.topic,
    schema: notificationCreated.schema,
    handler: async (data, envelope) => {
      hub.sendToUser(data.userId, { event: 'notification', id: envelope.id, data });
      return 'SUCCESS';
    },
  });
  // Dead letters (consumed once per app through `pubsub`, decision 0303) are only logged: a
  // push that missed its moment is obsolete (clients re-fetch on reconnect), and the gateway
  // keeps no state to list or replay them from.
  for (const topic of STREAM_TOPICS) {
    runtime.subscriptions.add(app, {
      pubsub: PUBSUB_NAME,
      topic: `${topic}.deadletter`,
      schema: z.unknown(),
      handler: async (_data, envelope) => {
        // Dead-letter subscriptions take the broker's raw bytes (decision 0751): name the event inside.
        const { eventId, event } = unwrapDeadLetter(envelope.raw);
        runtime.logger.warn(
          { topic, eventId, type: event.type, source: event.source },
          'live-stream event dead-lettered; discarded (nothing to replay)',
        );
        return 'SUCCESS';
      },
    });
  }
}
