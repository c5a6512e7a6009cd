/**
 * `pubsub.in-memory`: asynchronous delivery inside this process, like contrib's
 * in-memory bus. No consumer groups, no redelivery: a message whose handler fails is
 * logged and lost (only a Resiliency inbound policy retries it).
 */
import type { Logger } from 'pino';
import type {
  BrokerMessage,
  MessageHandler,
  PubSubComponent,
  PubSubFeature,
  PublishRequest,
  SubscribeRequest,
} from './types';

export class InMemoryPubSub implements PubSubComponent {
  readonly features: readonly PubSubFeature[] = [];
  private readonly handlers = new Map<string, MessageHandler[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  async publish(request: PublishRequest): Promise<void> {
    if (this.closed) throw new Error(`pubsub ${this.name} is closed`);
    for (const handler of this.handlers.get(request.topic) ?? []) {
      // Each subscriber gets its own copy so one handler cannot alter what another sees.
      const message: BrokerMessage = {
        topic: request.topic,
        data: Buffer.from(request.data),
        metadata: { ...request.metadata },
      };
      const delivery = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => handler(message))
        .catch((err: unknown) => {
          this.logger.error(
            { err, pubsub: this.name, topic: request.topic },
            'in-memory pub/sub: message handling failed; the message is lost',
          );
        })
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void> {
    if (this.closed) throw new Error(`pubsub ${this.name} is closed`);
    const list = this.handlers.get(request.topic) ?? [];
    list.push(handler);
    this.handlers.set(request.topic, list);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
