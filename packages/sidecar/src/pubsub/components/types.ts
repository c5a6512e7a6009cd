/** What the runtime needs from a pub/sub component (the contrib `pubsub.PubSub` interface, trimmed). */

export interface BrokerMessage {
  topic: string;
  /** the bytes as published (a CloudEvent JSON unless the publisher used rawPayload) */
  data: Buffer;
  /** message metadata, sent to the app as headers */
  metadata: Record<string, string>;
}

/** Resolving acks the message; rejecting hands the failure back to the component (nack). */
export type MessageHandler = (message: BrokerMessage) => Promise<void>;

export interface PublishRequest {
  topic: string;
  data: Buffer;
  metadata: Record<string, string>;
}

export interface SubscribeRequest {
  topic: string;
  /** subscription metadata (queueName, routingKey, maxLen, ...) */
  metadata: Record<string, string>;
}

/** Capabilities as `GET /v1.0/metadata` names them. */
export type PubSubFeature = 'MESSAGE_TTL' | 'SUBSCRIBE_WILDCARDS' | 'BULK_PUBSUB';

export interface PubSubComponent {
  readonly features: readonly PubSubFeature[];
  /** Resolves once accepted (for RabbitMQ with publisherConfirm: confirmed by the broker). */
  publish(request: PublishRequest): Promise<void>;
  /** Resolves once the subscription is consuming. */
  subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void>;
  /** Stops consuming while the app is unhealthy; messages stay in the broker (RabbitMQ basic.cancel). */
  pause?(): void;
  /** Consumes again after pause(). */
  resume?(): void;
  /** Stops consuming, waits for in-flight handlers, releases connections. */
  close(): Promise<void>;
}

/**
 * Thrown by a handler that was interrupted by shutdown rather than failing: the
 * component must neither ack nor nack, so that the broker redelivers the message.
 */
export class DeliveryInterruptedError extends Error {
  override readonly name = 'DeliveryInterruptedError';
}
