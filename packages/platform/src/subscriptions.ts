/**
 * Pub/sub consumers. Subscriptions are declarative Dapr Subscription resources
 * (components/common locally, the chart on Kubernetes) that route topic `t` to
 * `POST /events/t` on the consuming app; this helper serves those routes.
 *
 * A handler says explicitly what Dapr should do with the message:
 *  - SUCCESS: done (ack);
 *  - RETRY: try again under the Resiliency policy, then dead-letter;
 *  - DROP: poison message, never retry: straight to the dead-letter topic.
 * An exception is a RETRY (unlike the SDK's DaprServer, which acks a throwing callback).
 */
import type { Express, Request } from 'express';
import type { z } from 'zod';
import type { Logger } from 'pino';
import { requestLogger } from './http';
import { recordConsumedMessage } from './telemetry/metrics';

export type DeliveryOutcome = 'SUCCESS' | 'RETRY' | 'DROP';

/** The CloudEvent fields a consumer may need besides `data`. */
export interface EventEnvelope {
  id: string;
  type: string;
  source: string;
  topic: string;
  pubsubname: string;
  time?: string | undefined;
  traceparent?: string | undefined;
  /** the raw event as delivered */
  raw: Record<string, unknown>;
}

export interface SubscriptionOptions<S extends z.ZodType> {
  pubsub: string;
  topic: string;
  /** validates `data`; a message that does not match is dropped to the dead-letter topic */
  schema: S;
  handler: (data: z.infer<S>, event: EventEnvelope) => Promise<DeliveryOutcome>;
  /**
   * true when the handler deduplicates by event id: an event without one cannot be deduplicated,
   * so it is dropped (to the dead-letter topic) before the handler runs.
   */
  requireEventId?: boolean;
}

export interface DeclaredSubscription {
  pubsubname: string;
  topic: string;
  route: string;
}

export const eventRoute = (topic: string) => `/events/${topic}`;

export class Subscriptions {
  private readonly declared: DeclaredSubscription[] = [];

  constructor(private readonly logger: Logger) {}

  /** What this app consumes; compared with the Subscription resources in tests. */
  list(): readonly DeclaredSubscription[] {
    return this.declared;
  }

  add<S extends z.ZodType>(app: Express, options: SubscriptionOptions<S>): void {
    const route = eventRoute(options.topic);
    this.declared.push({ pubsubname: options.pubsub, topic: options.topic, route });
    app.post(route, async (req, res) => {
      const outcome = await this.deliver(req, options);
      recordConsumedMessage(options.topic, outcome === 'SUCCESS' ? 'success' : outcome === 'RETRY' ? 'retry' : 'drop');
      res.status(200).json({ status: outcome });
    });
  }

  /** Programmatic subscriptions are not used: answer an empty list so daprd does not wait on us. */
  mountDiscovery(app: Express): void {
    app.get('/dapr/subscribe', (_req, res) => {
      res.json([]);
    });
  }

  private async deliver<S extends z.ZodType>(req: Request, options: SubscriptionOptions<S>): Promise<DeliveryOutcome> {
    const log = (): Logger => requestLogger(req, this.logger);
    const body: unknown = req.body;
    if (!body || typeof body !== 'object') {
      log().warn({ topic: options.topic }, 'dropping event without a JSON CloudEvent body');
      return 'DROP';
    }
    const event = body as Record<string, unknown>;
    const envelope: EventEnvelope = {
      id: String(event.id ?? ''),
      type: String(event.type ?? ''),
      source: String(event.source ?? ''),
      topic: String(event.topic ?? options.topic),
      pubsubname: String(event.pubsubname ?? options.pubsub),
      time: typeof event.time === 'string' ? event.time : undefined,
      traceparent: typeof event.traceparent === 'string' ? event.traceparent : undefined,
      raw: event,
    };
    if (options.requireEventId && envelope.id === '') {
      log().warn({ topic: options.topic }, 'event without an id cannot be deduplicated; dropped');
      return 'DROP';
    }
    const parsed = options.schema.safeParse(event.data);
    if (!parsed.success) {
      log().warn(
        { topic: options.topic, eventId: envelope.id, issues: parsed.error.issues.slice(0, 5) },
        'dropping event whose data does not match the contract',
      );
      return 'DROP';
    }
    try {
      const outcome = await options.handler(parsed.data, envelope);
      if (outcome !== 'SUCCESS')
        log().warn({ topic: options.topic, eventId: envelope.id, outcome }, 'event not consumed');
      return outcome;
    } catch (err) {
      log().error({ err, topic: options.topic, eventId: envelope.id }, 'event handler failed; asking for a retry');
      return 'RETRY';
    }
  }
}
