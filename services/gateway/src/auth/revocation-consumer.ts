/**
 * tokens.revoked → the gateway's revocations (every replica: on Kubernetes through the
 * chart's broadcast component, like the live-stream topics). Delivered only by the gateway's
 * own sidecar (`/events/*` is guarded by `sidecarOnly` in app.ts).
 */
import type { Express } from 'express';
import { z } from 'zod';
import type { ServiceRuntime } from '@quizmesh/platform';
import { unwrapDeadLetter } from '@quizmesh/platform/deadletters';
import { PUBSUB_NAME, tokensRevoked } from '@quizmesh/contracts/events';
import type { Revocations } from './revocations';

export function mountRevocationConsumer(
  app: Express,
  runtime: ServiceRuntime,
  revocations: Pick<Revocations, 'revoke'>,
  options: { broadcastPubsub: string },
): void {
  runtime.subscriptions.add(app, {
    pubsub: options.broadcastPubsub,
    topic: tokensRevoked.topic,
    schema: tokensRevoked.schema,
    handler: async (data) => {
      // JWT `iat` has second precision: a token issued in the revocation's own second stays valid.
      await revocations.revoke(data.userId, Math.floor(Date.parse(data.notBefore) / 1000));
      return 'SUCCESS';
    },
  });
  // After Dapr's retries (e.g. the state store was down) the event is dead-lettered: logged
  // loudly, since that user's older access tokens stay valid until they expire.
  runtime.subscriptions.add(app, {
    pubsub: PUBSUB_NAME,
    topic: `${tokensRevoked.topic}.deadletter`,
    schema: z.unknown(),
    handler: async (_data, envelope) => {
      // Dead-letter subscriptions take the broker's raw bytes (decision 0751): log the event inside.
      const { eventId, event } = unwrapDeadLetter(envelope.raw);
      runtime.logger.error(
        { topic: tokensRevoked.topic, eventId, data: event.data },
        'token revocation dead-lettered: older access tokens of this user stay valid until they expire',
      );
      return 'SUCCESS';
    },
  });
}
