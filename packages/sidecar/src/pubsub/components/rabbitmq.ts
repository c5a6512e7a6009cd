/**
 * `pubsub.rabbitmq` with contrib's topology: one exchange per topic (named after the
 * topic, kind `exchangeKind`), one queue `{consumerID}-{topic}` per subscriber
 * (subscription metadata `queueName` overrides it) bound with `routingKey`, manual acks,
 * optional `dlx-{queue}`/`dlq-{queue}` when `enableDeadLetter`.
 *
 * Connection loss is handled by amqplib's own recovery (constant `reconnectWaitSeconds`
 * delay); every consumer re-opens its channel and re-declares its topology once the
 * connection is back, and publishes wait for it (up to 3 attempts, like contrib).
 */
import type { Channel, ConfirmChannel, ConsumeMessage, Options, RecoveringChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { findMetadata, requestTtlSeconds } from '../metadata-values';
import { parseRabbitMqMetadata, type RabbitMqMetadata } from './rabbitmq-metadata';
import {
  DeliveryInterruptedError,
  type MessageHandler,
  type PubSubComponent,
  type PubSubFeature,
  type PublishRequest,
  type SubscribeRequest,
} from './types';

const PUBLISH_ATTEMPTS = 3;
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * contrib's ensureExchangeDeclared (pubsub/rabbitmq/rabbitmq.go, v1.16.3) passes the component's
 * `durable` and `deletedWhenUnused` to ExchangeDeclare for the topic exchange; the dead-letter
 * exchange is always durable but takes `deletedWhenUnused`. RabbitMQ refuses a second declaration
 * with other flags (406 PRECONDITION_FAILED), so two components that differ in them cannot share
 * a topic.
 */
function exchangeOptions(metadata: RabbitMqMetadata, deadLetter = false): Options.AssertExchange {
  return { durable: deadLetter ? true : metadata.durable, autoDelete: metadata.deletedWhenUnused };
}

interface PublisherChannel {
  channel: Channel | ConfirmChannel;
  confirm: boolean;
  declaredExchanges: Set<string>;
}

const unsupportedTlsKeys = ['saslExternal', 'caCert', 'clientCert', 'clientKey'];

export class RabbitMqPubSub implements PubSubComponent {
  readonly features: readonly PubSubFeature[] = ['MESSAGE_TTL'];
  private connected = false;
  private closing = false;
  private publisher: Promise<PublisherChannel> | undefined;
  private readonly consumers: RabbitMqConsumer[] = [];

  private constructor(
    readonly name: string,
    readonly metadata: RabbitMqMetadata,
    private readonly connection: RecoveringChannelModel,
    private readonly logger: Logger,
  ) {
    connection.on('connect', () => {
      this.connected = true;
      logger.info({ pubsub: name }, 'rabbitmq pub/sub: connected');
    });
    connection.on('disconnect', (err: Error) => {
      this.connected = false;
      this.publisher = undefined;
      if (!this.closing)
        logger.warn({ pubsub: name, err: err.message }, 'rabbitmq pub/sub: connection lost, reconnecting');
    });
    connection.on('error', (err: Error) =>
      logger.warn({ pubsub: name, err: err.message }, 'rabbitmq pub/sub: connection error'),
    );
    connection.on('reconnect-failed', (err: Error) =>
      logger.error({ pubsub: name, err: err.message }, 'rabbitmq pub/sub: gave up reconnecting'),
    );
  }

  /** Connects once (failing fast like daprd's component init); reconnects forever afterwards. */
  static async create(
    name: string,
    componentMetadata: Record<string, string>,
    appId: string,
    logger: Logger,
    handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS,
  ): Promise<RabbitMqPubSub> {
    for (const key of unsupportedTlsKeys) {
      if (findMetadata(componentMetadata, key)) {
        throw new Error(`${key} is not supported by the local sidecar (use an amqps:// connectionString)`);
      }
    }
    const metadata = parseRabbitMqMetadata(componentMetadata, appId);
    const url = new URL(metadata.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(metadata.heartbeatSeconds));
    // Loaded on first use: a sidecar on embedded backends never needs amqplib (decision 0880).
    const { default: amqplib } = await import('amqplib');
    const connection = await amqplib.connect(url.toString(), {
      clientProperties: metadata.clientName ? { connection_name: metadata.clientName } : {},
      // Without it Nagle's algorithm holds small frames (acks, confirms) back for ~40 ms.
      noDelay: true,
      // contrib dials through amqp091-go's DefaultDial: 30 s for the TCP connect and the AMQP
      // handshake together. Without a limit one attempt accepted by a broker that never answers
      // (one still booting) would hang, and recovery never starts a second attempt meanwhile.
      timeout: handshakeTimeoutMs,
      recovery: {
        waitForConnect: false,
        initialMaxRetries: 0,
        maxRetries: Infinity,
        calculateDelay: () => metadata.reconnectWaitMs,
      },
    });
    const component = new RabbitMqPubSub(name, metadata, connection, logger);
    try {
      await connection.waitForConnect();
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw new Error(`cannot connect to RabbitMQ at ${redact(url)}: ${(err as Error).message}`, { cause: err });
    }
    component.connected = true;
    return component;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async publish(request: PublishRequest): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      if (this.closing) throw new Error('component is closed');
      if (!this.connected) {
        lastError = new Error('channel/connection is not open');
      } else {
        try {
          await this.publishOnce(request);
          return;
        } catch (err) {
          lastError = err;
        }
      }
      if (attempt < PUBLISH_ATTEMPTS) await delay(this.metadata.reconnectWaitMs);
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private async publishOnce(request: PublishRequest): Promise<void> {
    const publisher = await this.publisherChannel();
    if (!publisher.declaredExchanges.has(request.topic)) {
      await publisher.channel.assertExchange(request.topic, this.metadata.exchangeKind, exchangeOptions(this.metadata));
      publisher.declaredExchanges.add(request.topic);
    }
    const options = this.publishOptions(request.metadata);
    const routingKey = request.metadata.routingKey ?? '';
    if (publisher.confirm) {
      const channel = publisher.channel as ConfirmChannel;
      await new Promise<void>((resolve, reject) => {
        channel.publish(request.topic, routingKey, request.data, options, (err: unknown) => {
          if (err) reject(err instanceof Error ? err : new Error('did not receive confirmation of publishing'));
          else resolve();
        });
      });
    } else {
      publisher.channel.publish(request.topic, routingKey, request.data, options);
    }
  }

  private publishOptions(requestMetadata: Record<string, string>): Options.Publish {
    const options: Options.Publish = { contentType: requestMetadata.contentType ?? 'text/plain' };
    if (this.metadata.deliveryMode !== 0) options.deliveryMode = this.metadata.deliveryMode;
    const ttl = requestTtlSeconds(requestMetadata) ?? this.metadata.ttlSeconds;
    if (ttl !== undefined) options.expiration = String(ttl * 1000);
    const priority = requestMetadata.priority;
    if (priority !== undefined && /^\d+$/.test(priority)) options.priority = Math.min(Number(priority), 255);
    if (requestMetadata.messageID) options.messageId = requestMetadata.messageID;
    if (requestMetadata.correlationID) options.correlationId = requestMetadata.correlationID;
    if (requestMetadata.type) options.type = requestMetadata.type;
    return options;
  }

  private publisherChannel(): Promise<PublisherChannel> {
    if (!this.publisher) {
      const opening = this.openPublisher();
      this.publisher = opening;
      opening.catch(() => {
        if (this.publisher === opening) this.publisher = undefined;
      });
    }
    return this.publisher;
  }

  private async openPublisher(): Promise<PublisherChannel> {
    const confirm = this.metadata.publisherConfirm;
    const channel = confirm ? await this.connection.createConfirmChannel() : await this.connection.createChannel();
    const publisher: PublisherChannel = { channel, confirm, declaredExchanges: new Set() };
    const opened = this.publisher;
    channel.on('error', (err: Error) =>
      this.logger.warn({ pubsub: this.name, err: err.message }, 'rabbitmq pub/sub: publisher channel error'),
    );
    channel.on('close', () => {
      // A channel error (e.g. an exchange declared with another kind) closes the channel; open a new one next time.
      if (this.publisher === opened) this.publisher = undefined;
    });
    return publisher;
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void> {
    if (this.closing) throw new Error('component is closed');
    const queueName = request.metadata.queueName || `${this.metadata.consumerId}-${request.topic}`;
    const consumer = new RabbitMqConsumer(
      this.name,
      this.metadata,
      this.connection,
      request,
      queueName,
      handler,
      this.logger,
    );
    await consumer.start();
    this.consumers.push(consumer);
  }

  pause(): void {
    for (const consumer of this.consumers) consumer.pause();
  }

  resume(): void {
    for (const consumer of this.consumers) consumer.resume();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.allSettled(this.consumers.map((consumer) => consumer.stop()));
    await this.connection.close().catch(() => undefined);
  }
}

/** One subscription: its own channel, so a failure in one queue does not stop the others. */
class RabbitMqConsumer {
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private paused = false;
  private readonly inFlight = new Set<Promise<void>>();
  private sequential: Promise<void> = Promise.resolve();
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pubsubName: string,
    private readonly metadata: RabbitMqMetadata,
    private readonly connection: RecoveringChannelModel,
    private readonly request: SubscribeRequest,
    private readonly queueName: string,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
  ) {}

  /** First start: errors (bad queue arguments, ...) are reported to the caller. */
  async start(): Promise<void> {
    await this.open();
  }

  private async open(): Promise<void> {
    const channel = await this.connection.createChannel();
    channel.on('error', (err: Error) =>
      this.logger.warn(
        { pubsub: this.pubsubName, queue: this.queueName, err: err.message },
        'rabbitmq pub/sub: consumer channel error',
      ),
    );
    channel.on('close', () => this.onChannelClosed(channel));
    try {
      await this.declareTopology(channel);
      if (this.metadata.prefetchCount > 0) await channel.prefetch(this.metadata.prefetchCount, false);
      // Set before consuming: deliveries may arrive before consume() resolves.
      this.channel = channel;
      if (!this.paused) await this.consume(channel);
    } catch (err) {
      if (this.channel === channel) this.channel = undefined;
      await channel.close().catch(() => undefined);
      throw err;
    }
  }

  private async consume(channel: Channel): Promise<void> {
    const reply = await channel.consume(this.queueName, (message) => this.onMessage(channel, message), {
      noAck: this.metadata.autoAck,
      consumerTag: `${this.queueName}-${Math.random().toString(36).slice(2, 10)}`,
    });
    this.consumerTag = reply.consumerTag;
    this.logger.info(
      { pubsub: this.pubsubName, topic: this.request.topic, queue: this.queueName },
      'rabbitmq pub/sub: consuming',
    );
    // Paused while basic.consume was on its way: cancel what was just started.
    if (this.paused) {
      this.paused = false;
      this.pause();
    }
  }

  /**
   * basic.cancel, as daprd's StopAppSubscriptions: the broker keeps every message not yet sent
   * to us; those already received stay unacknowledged and wait for the app in the runtime.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const { channel, consumerTag } = this;
    if (!channel || !consumerTag) return;
    this.consumerTag = undefined;
    channel.cancel(consumerTag).then(
      () => this.logger.info({ pubsub: this.pubsubName, queue: this.queueName }, 'rabbitmq pub/sub: consumer paused'),
      (err: unknown) =>
        this.logger.warn(
          { pubsub: this.pubsubName, queue: this.queueName, err: (err as Error).message },
          'rabbitmq pub/sub: pause failed',
        ),
    );
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const channel = this.channel;
    // Without a channel the reopen in progress consumes once it is open.
    if (!channel || this.consumerTag || this.stopped) return;
    this.consume(channel).catch((err: unknown) => {
      this.logger.warn(
        { pubsub: this.pubsubName, queue: this.queueName, err: (err as Error).message },
        'rabbitmq pub/sub: resume failed, reopening the channel',
      );
      void channel.close().catch(() => undefined);
    });
  }

  private async declareTopology(channel: Channel): Promise<void> {
    const { metadata, request, queueName } = this;
    await channel.assertExchange(request.topic, metadata.exchangeKind, exchangeOptions(metadata));
    const args: Record<string, unknown> = this.lengthArguments(metadata.maxLen, metadata.maxLenBytes);
    if (metadata.enableDeadLetter) {
      const dlx = `dlx-${queueName}`;
      const dlq = `dlq-${queueName}`;
      // contrib: the dead-letter exchange and queue are always durable; the queue is lazy.
      await channel.assertExchange(dlx, 'fanout', exchangeOptions(metadata, true));
      await channel.assertQueue(dlq, {
        durable: true,
        autoDelete: metadata.deletedWhenUnused,
        arguments: { ...this.lengthArguments(metadata.maxLen, metadata.maxLenBytes), 'x-queue-mode': 'lazy' },
      });
      await channel.bindQueue(dlq, dlx, '');
      args['x-dead-letter-exchange'] = dlx;
    }
    const subscription = request.metadata;
    if (subscription.maxPriority)
      args['x-max-priority'] = Math.min(parseUint('maxPriority', subscription.maxPriority), 255);
    const queueType = subscription.queueType || 'classic';
    if (queueType !== 'classic' && queueType !== 'quorum')
      throw new Error(`invalid queue type ${queueType}. Valid types are classic and quorum`);
    args['x-queue-type'] = queueType;
    if (
      subscription.singleActiveConsumer &&
      ['1', 't', 'T', 'true', 'TRUE', 'True', 'y', 'yes', 'on'].includes(subscription.singleActiveConsumer)
    ) {
      args['x-single-active-consumer'] = true;
    }
    if (subscription.maxLenBytes) args['x-max-length-bytes'] = parseUint('maxLenBytes', subscription.maxLenBytes);
    if (subscription.maxLen) args['x-max-length'] = parseUint('maxLen', subscription.maxLen);
    await channel.assertQueue(queueName, {
      durable: metadata.durable,
      autoDelete: metadata.deletedWhenUnused,
      arguments: args,
    });
    for (const routingKey of (subscription.routingKey ?? '').split(',')) {
      await channel.bindQueue(queueName, request.topic, routingKey);
    }
  }

  private lengthArguments(maxLen: number | undefined, maxLenBytes: number | undefined): Record<string, unknown> {
    const args: Record<string, unknown> = {};
    if (maxLen !== undefined) args['x-max-length'] = maxLen;
    if (maxLenBytes !== undefined) args['x-max-length-bytes'] = maxLenBytes;
    return args;
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): open again, which re-declares the queue.
      this.logger.warn(
        { pubsub: this.pubsubName, queue: this.queueName },
        'rabbitmq pub/sub: consumer cancelled by the broker',
      );
      void channel.close().catch(() => undefined);
      return;
    }
    const run = (): Promise<void> => this.handle(channel, message);
    const task = this.metadata.concurrencyMode === 'single' ? (this.sequential = this.sequential.then(run)) : run();
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async handle(channel: Channel, message: ConsumeMessage): Promise<void> {
    let failure: unknown;
    try {
      await this.handler({ topic: this.request.topic, data: message.content, metadata: this.messageMetadata(message) });
    } catch (err) {
      failure = err;
    }
    if (this.metadata.autoAck) return;
    // Interrupted by shutdown: leave it unacknowledged so the broker redelivers it.
    if (failure instanceof DeliveryInterruptedError) return;
    // After a reconnect the delivery tag is void; the broker redelivers the message anyway.
    if (channel !== this.channel) return;
    try {
      if (failure === undefined) channel.ack(message);
      else {
        this.logger.warn(
          {
            pubsub: this.pubsubName,
            queue: this.queueName,
            err: (failure as Error).message,
            requeue: this.metadata.requeueInFailure,
          },
          'rabbitmq pub/sub: nacking message',
        );
        channel.nack(message, false, this.metadata.requeueInFailure);
      }
    } catch (err) {
      this.logger.warn(
        { pubsub: this.pubsubName, queue: this.queueName, err: (err as Error).message },
        'rabbitmq pub/sub: ack/nack failed',
      );
    }
  }

  private messageMetadata(message: ConsumeMessage): Record<string, string> {
    if (!this.metadata.publishMessagePropertiesToMetadata) return {};
    const metadata: Record<string, string> = {};
    const { properties } = message;
    if (typeof properties.messageId === 'string' && properties.messageId) metadata.messageid = properties.messageId;
    if (typeof properties.correlationId === 'string' && properties.correlationId)
      metadata.correlationid = properties.correlationId;
    if (typeof properties.type === 'string' && properties.type) metadata.type = properties.type;
    if (typeof properties.contentType === 'string' && properties.contentType)
      metadata.contenttype = properties.contentType;
    for (const [key, value] of Object.entries((properties.headers ?? {}) as Record<string, unknown>)) {
      if (value === null || value === undefined) continue;
      metadata[key] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    }
    return metadata;
  }

  private onChannelClosed(channel: Channel): void {
    if (channel !== this.channel) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    if (!this.stopped) this.scheduleReopen();
  }

  /** Re-opens after reconnectWait; createChannel itself waits while the connection is down. */
  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.stopped) return;
      this.open().catch((err: unknown) => {
        if (this.stopped) return;
        this.logger.warn(
          { pubsub: this.pubsubName, queue: this.queueName, err: (err as Error).message },
          'rabbitmq pub/sub: resubscribe failed, retrying',
        );
        this.scheduleReopen();
      });
    }, this.metadata.reconnectWaitMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.channel = undefined;
    if (channel) await channel.close().catch(() => undefined);
  }
}

function parseUint(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`can't parse ${name} value "${value}" on subscription metadata`);
  return Number(value);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  copy.search = '';
  return copy.toString();
}
