/**
 * The pub/sub building block of the local sidecar: publish (single and bulk),
 * programmatic + declarative subscriptions, delivery to the app with daprd's response
 * semantics, Resiliency-driven retries and dead-letter topics.
 * See docs/sidecar.md ("Pub/sub") for what is implemented and every divergence.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ApiResult } from '../api/types';
import type { ComponentSpec, SubscriptionSpec } from '../resources/types';
import type { CreatePubSubRuntime, PubSubRuntime, PubSubRuntimeOptions } from './types';
import {
  buildPublishedEvent,
  CloudEventBodyError,
  hasExpired,
  isJsonContentType,
  rawPayloadEnvelope,
  type CloudEvent,
} from './cloudevent';
import { InMemoryPubSub } from './components/in-memory';
import { LocalNetworkPubSub } from './components/local-network';
import { findMetadata } from './metadata-values';
import { RabbitMqPubSub } from './components/rabbitmq';
import { DeliveryInterruptedError, type BrokerMessage, type PubSubComponent } from './components/types';
import { metadataHeaders, postEvent } from './delivery';
import { daprError, errorMessage } from './errors';
import { parseGoBool, requestTtlSeconds } from './metadata-values';
import { compileRules, matchRoute, type CompiledRule } from './routing';
import { TopicScopes } from './scopes';
import { fetchProgrammaticSubscriptions, mergeSubscriptions } from './subscriptions';
import { childTraceparent } from './trace';
import { defaultRegistryDir } from '../invoke/registry';
import { NEVER_ABORTED, PermanentOutcome } from '../resiliency/policy';

export { InMemoryPubSub } from './components/in-memory';
export { RabbitMqPubSub } from './components/rabbitmq';
export { LocalNetworkPubSub } from './components/local-network';

const SUPPORTED_TYPES = ['pubsub.in-memory', 'pubsub.local-network', 'pubsub.rabbitmq'] as const;
const DEAD_LETTER_PUBLISH_TIMEOUT_MS = 30_000;
/** How long close() lets in-flight deliveries finish before interrupting them. */
const SHUTDOWN_GRACE_MS = 5_000;

interface LoadedPubSub {
  spec: ComponentSpec;
  component: PubSubComponent;
  scopes: TopicScopes;
}

class RawPayloadError extends Error {}

/** The app was not there: with health checks on, the delivery waits for it instead of retrying (decision 0750). */
class AppUnreachableError extends PermanentOutcome {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function parseRawPayload(metadata: Record<string, string>): boolean {
  const raw = metadata.rawPayload;
  if (raw === undefined || raw === '') return false;
  const parsed = parseGoBool(raw);
  if (parsed === undefined) throw new RawPayloadError(`rawPayload value must be a valid boolean: actual is ${raw}`);
  return parsed;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function createComponent(
  spec: ComponentSpec,
  appId: string,
  registryDir: string,
  logger: Logger,
): Promise<PubSubComponent> {
  if (spec.version !== 'v1') throw new Error(`version ${spec.version} is not supported for ${spec.type} (use v1)`);
  switch (spec.type) {
    case 'pubsub.in-memory':
      return new InMemoryPubSub(spec.name, logger);
    case 'pubsub.local-network':
      return LocalNetworkPubSub.create(spec.name, appId, registryDir, logger, findMetadata(spec.metadata, 'network'));
    case 'pubsub.rabbitmq':
      return RabbitMqPubSub.create(spec.name, spec.metadata, appId, logger);
    default:
      throw new Error(
        `type ${spec.type} is not supported by the local sidecar (supported: ${SUPPORTED_TYPES.join(', ')})`,
      );
  }
}

interface ActiveSubscription {
  spec: SubscriptionSpec;
  rules: CompiledRule[];
  rawPayload: boolean;
}

class LocalPubSubRuntime implements PubSubRuntime {
  private subscriptions: SubscriptionSpec[] = [];
  private readonly shutdown = new AbortController();
  /** deliveries to the app in flight, aborted with shutdown */
  private readonly deliveries = new Set<AbortController>();
  private started = false;

  constructor(
    private readonly options: PubSubRuntimeOptions,
    private readonly pubsubs: Map<string, LoadedPubSub>,
    private readonly logger: Logger,
  ) {
    // Every delivery waiting for the app to be healthy listens for shutdown.
    setMaxListeners(0, this.shutdown.signal);
    this.shutdown.signal.addEventListener(
      'abort',
      () => {
        for (const delivery of this.deliveries) delivery.abort(this.shutdown.signal.reason);
      },
      { once: true },
    );
  }

  private lookup(pubsubName: string, topic: string): LoadedPubSub | ApiResult {
    if (pubsubName === '') return daprError(404, 'ERR_PUBSUB_EMPTY', 'pubsub name is empty');
    const pubsub = this.pubsubs.get(pubsubName);
    if (!pubsub) return daprError(404, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsubName} not found`);
    if (topic === '') return daprError(404, 'ERR_TOPIC_NAME_EMPTY', `topic is empty in pubsub ${pubsubName}`);
    if (!pubsub.scopes.canPublish(topic)) {
      return daprError(403, 'ERR_PUBSUB_FORBIDDEN', `topic ${topic} is not allowed for app id ${this.options.appId}`);
    }
    return pubsub;
  }

  /** The bytes daprd hands to the broker for one publish. */
  private encode(
    pubsub: LoadedPubSub,
    topic: string,
    body: Buffer,
    contentType: string | undefined,
    metadata: Record<string, string>,
    traceparent: string | undefined,
    tracestate: string | undefined,
  ): Buffer {
    if (parseRawPayload(metadata)) return body;
    const ttl = requestTtlSeconds(metadata);
    const event = buildPublishedEvent({
      appId: this.options.appId,
      pubsubName: pubsub.spec.name,
      topic,
      body,
      contentType,
      metadata,
      traceparent: childTraceparent(traceparent),
      tracestate,
      expirationTtlSeconds: ttl !== undefined && !pubsub.component.features.includes('MESSAGE_TTL') ? ttl : undefined,
      now: new Date(),
    });
    return Buffer.from(JSON.stringify(event));
  }

  private async send(
    pubsub: LoadedPubSub,
    topic: string,
    data: Buffer,
    metadata: Record<string, string>,
  ): Promise<void> {
    const policy = this.options.resiliency.componentOutbound(pubsub.spec.name, pubsub.spec.type);
    await policy.run(() => pubsub.component.publish({ topic, data, metadata }));
  }

  async publish(req: Parameters<PubSubRuntime['publish']>[0]): Promise<ApiResult> {
    const found = this.lookup(req.pubsubName, req.topic);
    if (!('component' in found)) return found;
    let data: Buffer;
    try {
      data = this.encode(found, req.topic, req.body, req.contentType, req.metadata, req.traceparent, req.tracestate);
    } catch (err) {
      if (err instanceof RawPayloadError) return daprError(400, 'ERR_PUBSUB_REQUEST_METADATA', err.message);
      if (err instanceof CloudEventBodyError)
        return daprError(500, 'ERR_PUBSUB_CLOUD_EVENTS_SER', `cannot create cloudevent: ${err.message}`);
      throw err;
    }
    try {
      await this.send(found, req.topic, data, req.metadata);
    } catch (err) {
      return daprError(
        500,
        'ERR_PUBSUB_PUBLISH_MESSAGE',
        `error when publish to topic ${req.topic} in pubsub ${req.pubsubName}: ${errorMessage(err)}`,
      );
    }
    return { status: 204 };
  }

  async publishBulk(req: Parameters<PubSubRuntime['publishBulk']>[0]): Promise<ApiResult> {
    const found = this.lookup(req.pubsubName, req.topic);
    if (!('component' in found)) return found;
    const entries = parseBulkEntries(req.body);
    if (typeof entries === 'string') return daprError(400, 'ERR_PUBSUB_EVENTS_SER', entries);
    const encoded: Array<{ entryId: string; data: Buffer; metadata: Record<string, string> }> = [];
    for (const entry of entries) {
      const metadata = { ...req.metadata, ...entry.metadata };
      try {
        encoded.push({
          entryId: entry.entryId,
          data: this.encode(found, req.topic, entry.body, entry.contentType, metadata, undefined, undefined),
          metadata,
        });
      } catch (err) {
        if (err instanceof RawPayloadError) return daprError(400, 'ERR_PUBSUB_REQUEST_METADATA', err.message);
        if (err instanceof CloudEventBodyError) {
          return daprError(
            500,
            'ERR_PUBSUB_CLOUD_EVENTS_SER',
            `cannot create cloudevent for entry ${entry.entryId}: ${err.message}`,
          );
        }
        throw err;
      }
    }
    const results = await Promise.allSettled(
      encoded.map((entry) => this.send(found, req.topic, entry.data, entry.metadata)),
    );
    const failedEntries = results.flatMap((result, index) =>
      result.status === 'rejected'
        ? [{ entryId: encoded[index]?.entryId ?? '', error: errorMessage(result.reason) }]
        : [],
    );
    if (failedEntries.length === 0) return { status: 204 };
    return { status: 500, body: { failedEntries, errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE' } };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { app, declarativeSubscriptions } = this.options;
    if (app.baseUrl === undefined) {
      this.logger.info('no app port: pub/sub subscriptions are not started');
      return;
    }
    await app.waitUntilReady();
    // daprd appHealthChanged: stop consuming while the app is unhealthy, start again when healthy.
    app.onHealthChange((healthy) => {
      for (const { component } of this.pubsubs.values()) {
        if (healthy) component.resume?.();
        else component.pause?.();
      }
      this.logger.info({ healthy }, healthy ? 'subscriptions resumed' : 'subscriptions paused: app is unhealthy');
    });
    const programmatic = await fetchProgrammaticSubscriptions(app, app.baseUrl, this.logger);
    const candidates = mergeSubscriptions(programmatic, declarativeSubscriptions, this.logger);
    const active: SubscriptionSpec[] = [];
    for (const spec of candidates) {
      const pubsub = this.pubsubs.get(spec.pubsubname);
      if (!pubsub) {
        this.logger.warn({ pubsub: spec.pubsubname, topic: spec.topic }, 'subscription to an unknown pubsub ignored');
        continue;
      }
      if (!pubsub.scopes.canSubscribe(spec.topic)) {
        this.logger.warn(
          { pubsub: spec.pubsubname, topic: spec.topic },
          `subscription to topic '${spec.topic}' is not allowed for this app`,
        );
        continue;
      }
      if (spec.bulkSubscribe?.enabled) {
        this.logger.warn(
          { pubsub: spec.pubsubname, topic: spec.topic },
          'bulkSubscribe is not supported by the local sidecar; delivering one event per request',
        );
      }
      const subscription: ActiveSubscription = { spec, rules: await compileRules(spec.rules), rawPayload: false };
      try {
        subscription.rawPayload = parseRawPayload(spec.metadata);
      } catch (err) {
        // daprd fails each message of such a subscription (dead-lettered when configured); refusing it up front is clearer.
        throw new Error(`subscription ${spec.pubsubname}/${spec.topic}: ${errorMessage(err)}`, { cause: err });
      }
      await pubsub.component.subscribe({ topic: spec.topic, metadata: spec.metadata }, (message) =>
        this.handleMessage(pubsub, subscription, message),
      );
      active.push(spec);
      this.logger.info({ pubsub: spec.pubsubname, topic: spec.topic, origin: spec.origin }, 'subscribed');
    }
    this.subscriptions = active;
  }

  /** daprd `subscription.go` handler: resolves to ack, rejects to hand the failure back to the component. */
  private async handleMessage(
    pubsub: LoadedPubSub,
    subscription: ActiveSubscription,
    message: BrokerMessage,
  ): Promise<void> {
    const { spec } = subscription;
    const name = pubsub.spec.name;
    const metadata: Record<string, string> = { ...message.metadata, pubsubName: name };
    const log = this.logger.child({ pubsub: name, topic: message.topic });
    const deadLetterOr = async (err: Error): Promise<void> => {
      if (spec.deadLetterTopic && (await this.sendToDeadLetter(pubsub, spec.deadLetterTopic, message, log))) return;
      throw err;
    };

    let event: CloudEvent;
    let body = message.data;
    if (subscription.rawPayload) {
      event = rawPayloadEnvelope(message.data, message.topic, name, message.metadata);
      body = Buffer.from(JSON.stringify(event));
    } else {
      try {
        const parsed: unknown = JSON.parse(message.data.toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not a JSON object');
        event = parsed as CloudEvent;
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'error deserializing cloud event');
        return deadLetterOr(new Error(`error deserializing cloud event: ${errorMessage(err)}`));
      }
    }

    if (hasExpired(event, new Date())) {
      log.warn({ id: event.id, expiration: event.expiration }, 'dropping expired pub/sub event');
      if (spec.deadLetterTopic) await this.sendToDeadLetter(pubsub, spec.deadLetterTopic, message, log);
      return;
    }

    let path: string | undefined;
    try {
      path = matchRoute(subscription.rules, event);
    } catch (err) {
      log.error({ id: event.id, err: errorMessage(err) }, 'error finding matching route');
      return deadLetterOr(err as Error);
    }
    if (path === undefined) {
      log.debug({ id: event.id }, 'no matching route; skipping');
      if (spec.deadLetterTopic) await this.sendToDeadLetter(pubsub, spec.deadLetterTopic, message, log);
      return;
    }

    const { app } = this.options;
    const traceparentSource =
      typeof event.traceparent === 'string'
        ? event.traceparent
        : typeof event.traceid === 'string'
          ? event.traceid
          : undefined;
    const headers: Record<string, string> = {
      ...metadataHeaders(metadata),
      'content-type': 'application/cloudevents+json',
      traceparent: childTraceparent(traceparentSource),
    };
    if (typeof event.tracestate === 'string' && event.tracestate !== '') headers.tracestate = event.tracestate;
    if (app.appApiToken) headers['dapr-api-token'] = app.appApiToken;
    const url = `${app.baseUrl ?? ''}${path}`;

    const policy = this.options.resiliency.componentInbound(name, pubsub.spec.type);
    const attempt = (): Promise<void> =>
      policy.run(async (signal) => {
        if (this.shutdown.signal.aborted) throw new DeliveryInterruptedError('sidecar is shutting down');
        let outcome;
        // Aborted by the attempt's timeout or by close(); not AbortSignal.any with the shutdown
        // signal, which would keep a reference per delivery for the sidecar's life (eitherSignal).
        const delivery = new AbortController();
        const timedOut = (): void => delivery.abort(signal.reason);
        if (signal.aborted) timedOut();
        else if (signal !== NEVER_ABORTED) signal.addEventListener('abort', timedOut, { once: true });
        this.deliveries.add(delivery);
        try {
          outcome = await postEvent(url, body, headers, delivery.signal);
        } catch (err) {
          if (this.shutdown.signal.aborted) throw new DeliveryInterruptedError('sidecar is shutting down');
          throw err;
        } finally {
          this.deliveries.delete(delivery);
          signal.removeEventListener('abort', timedOut);
        }
        if (outcome.kind === 'success') return;
        if (outcome.kind === 'retry' && outcome.unreachable && app.healthChecksEnabled)
          throw new AppUnreachableError(outcome.reason);
        if (outcome.kind === 'drop') {
          log.warn({ id: event.id }, outcome.reason);
          if (spec.deadLetterTopic && !(await this.sendToDeadLetter(pubsub, spec.deadLetterTopic, message, log))) {
            throw new Error(`${outcome.reason}; sending to the dead-letter topic failed`);
          }
          return;
        }
        log.warn({ id: event.id }, outcome.reason);
        throw new Error(outcome.reason);
      });
    try {
      for (;;) {
        await this.untilAppHealthy();
        try {
          await attempt();
          break;
        } catch (err) {
          if (!(err instanceof AppUnreachableError)) throw err;
          // Not a failed attempt: the message stays unacknowledged until the app is back.
          app.reportUnreachable(err.reason);
        }
      }
    } catch (err) {
      if (err instanceof DeliveryInterruptedError || this.shutdown.signal.aborted) {
        throw new DeliveryInterruptedError('sidecar is shutting down');
      }
      await deadLetterOr(err as Error);
    }
  }

  /** Waits while app health checks report the app unhealthy (the delivery is paused, not failed). */
  private async untilAppHealthy(): Promise<void> {
    const { app } = this.options;
    if (app.isHealthy()) return;
    try {
      await app.whenHealthy(this.shutdown.signal);
    } catch {
      throw new DeliveryInterruptedError('sidecar is shutting down');
    }
  }

  /** Republishes the original bytes and metadata to the dead-letter topic; true when it worked. */
  private async sendToDeadLetter(
    pubsub: LoadedPubSub,
    deadLetterTopic: string,
    message: BrokerMessage,
    log: Logger,
  ): Promise<boolean> {
    if (this.shutdown.signal.aborted) return false;
    try {
      await withTimeout(
        this.send(pubsub, deadLetterTopic, message.data, message.metadata),
        DEAD_LETTER_PUBLISH_TIMEOUT_MS,
        'dead-letter publish',
      );
      return true;
    } catch (err) {
      log.error({ deadLetterTopic, err: errorMessage(err) }, 'error sending message to dead letter');
      return false;
    }
  }

  async close(): Promise<void> {
    const grace = setTimeout(() => this.shutdown.abort(), SHUTDOWN_GRACE_MS);
    try {
      await Promise.allSettled([...this.pubsubs.values()].map((pubsub) => pubsub.component.close()));
    } finally {
      clearTimeout(grace);
      this.shutdown.abort();
    }
  }

  describe(): ReturnType<PubSubRuntime['describe']> {
    return {
      components: [...this.pubsubs.values()].map(({ spec }) => ({
        name: spec.name,
        type: spec.type,
        version: spec.version,
      })),
      subscriptions: this.subscriptions.map((spec) => ({
        ...spec,
        rules: spec.rules.map((rule) => ({ ...rule })),
        metadata: { ...spec.metadata },
      })),
    };
  }
}

interface BulkEntry {
  entryId: string;
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

/** Parses a bulk publish body; a string is the error message for a 400. */
function parseBulkEntries(body: Buffer): BulkEntry[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return `error when unmarshaling the request for bulk publishing: ${(err as Error).message}`;
  }
  if (!Array.isArray(parsed))
    return 'error when unmarshaling the request for bulk publishing: the body must be a JSON array';
  const ids = new Set<string>();
  const entries: BulkEntry[] = [];
  for (const item of parsed) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return 'each bulk publish entry must be an object';
    const { entryId, event, contentType, metadata } = item as Record<string, unknown>;
    if (typeof entryId !== 'string' || entryId === '') return 'entryId is required for every bulk publish entry';
    if (ids.has(entryId)) return `entryId ${entryId} is duplicated`;
    ids.add(entryId);
    if (typeof contentType !== 'string' || contentType === '') return `contentType is required for entry ${entryId}`;
    const entryMetadata: Record<string, string> = {};
    if (metadata !== undefined && metadata !== null) {
      if (typeof metadata !== 'object' || Array.isArray(metadata))
        return `metadata of entry ${entryId} must be an object`;
      for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
        if (typeof value !== 'string') return `metadata ${key} of entry ${entryId} must be a string`;
        entryMetadata[key] = value;
      }
    }
    let bytes: Buffer;
    if (isJsonContentType(contentType) || contentType.toLowerCase().startsWith('application/cloudevents+json')) {
      bytes = Buffer.from(JSON.stringify(event ?? null));
    } else if (typeof event === 'string') {
      bytes = Buffer.from(event);
    } else {
      return `the event of entry ${entryId} must be a string for content type ${contentType}`;
    }
    entries.push({ entryId, body: bytes, contentType, metadata: entryMetadata });
  }
  return entries;
}

export const createPubSubRuntime: CreatePubSubRuntime = async (options) => {
  const logger = options.logger.child({ component: 'pubsub' });
  const pubsubs = new Map<string, LoadedPubSub>();
  try {
    for (const spec of options.components) {
      if (!spec.type.startsWith('pubsub.')) continue;
      if (spec.scopes.length > 0 && !spec.scopes.includes(options.appId)) continue;
      if (pubsubs.has(spec.name))
        throw new Error(`pubsub component ${spec.name} is defined twice (${spec.sourceFile})`);
      try {
        const component = await createComponent(
          spec,
          options.appId,
          options.registryDir ?? defaultRegistryDir(),
          logger.child({ pubsub: spec.name }),
        );
        pubsubs.set(spec.name, { spec, component, scopes: new TopicScopes(spec.metadata, options.appId) });
      } catch (err) {
        const message = `pubsub component ${spec.name} (${spec.type}, ${spec.sourceFile}): ${errorMessage(err)}`;
        if (!spec.ignoreErrors) throw new Error(message, { cause: err });
        logger.warn(`${message}; ignored because ignoreErrors is set`);
      }
    }
  } catch (err) {
    await Promise.allSettled([...pubsubs.values()].map((pubsub) => pubsub.component.close()));
    throw err;
  }
  return new LocalPubSubRuntime(options, pubsubs, logger);
};
