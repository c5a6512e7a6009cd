/**
 * Views derived from the system registry (registry.ts): what the gateway routes and documents,
 * what each service mounts, which dead letters exist, and the Dapr Subscriptions. Pure functions
 * of a registry, so a test can derive them from a fixture registry too.
 */
import { EVENTS, deadLetterTopicOf, type EventContract } from './events';
import type { ApiOperation, OperationMethod } from './operations';
import { SYSTEM, type AppRegistration } from './registry';

export { SYSTEM };
export type { AppRegistration };

/** One public operation as served: an operation of the app, or a seed alias served by another operation's handler. */
export interface RoutedOperation extends ApiOperation {
  appId: string;
  /** the operation id whose handler serves it (its own, or the aliased operation's) */
  handler: string;
}

const key = (op: { method: string; path: string }) => `${op.method.toUpperCase()} ${op.path}`;

/** The app's operations and, after them, its seed aliases as deprecated copies of what they alias. */
export function routedOperations(app: AppRegistration): RoutedOperation[] {
  const own = app.operations.map((op) => ({ ...op, appId: app.appId, handler: op.operationId }));
  const aliases = Object.entries(app.seedAliases).map(([alias, target]): RoutedOperation => {
    const [method = '', path = ''] = alias.split(' ');
    const original = own.find((op) => key(op) === target);
    if (!original) throw new Error(`registry: ${app.appId} seed alias ${alias} names ${target}, which is no operation`);
    return {
      ...original,
      operationId: `${original.operationId}Seed`,
      method: method.toLowerCase() as OperationMethod,
      path,
      deprecated: true,
      description: `Seed-compatible alias of \`${target}\`; new clients should use that.`,
    };
  });
  return [...own, ...aliases];
}

/** Every public operation of the system, checked: one operation id and one `METHOD path` each. */
export function systemOperations(system: readonly AppRegistration[] = SYSTEM): RoutedOperation[] {
  const all = system.flatMap(routedOperations);
  const seen = new Map<string, string>();
  for (const op of all) {
    for (const name of [`operation id ${op.operationId}`, key(op)]) {
      const other = seen.get(name);
      if (other !== undefined) throw new Error(`registry: ${name} is declared by ${other} and ${op.appId}`);
      seen.set(name, op.appId);
    }
  }
  return all;
}

const isParameter = (segment: string | undefined) => segment !== undefined && /^\{\w+\}$/.test(segment);

/**
 * Orders path templates so that, of two that match one path, the more specific comes first:
 * literal segments beat parameters, left to right (`/users/me` before `/users/{id}`). The
 * gateway and the services both match in this order.
 */
export function bySpecificity(a: { path: string }, b: { path: string }): number {
  const left = a.path.split('/');
  const right = b.path.split('/');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const aParam = isParameter(left[i]);
    if (aParam !== isParameter(right[i])) return aParam ? 1 : -1;
  }
  return 0;
}

/** `{id}` → `:id`: the Express form of an OpenAPI path template. */
export const expressPath = (template: string) => template.replace(/\{(\w+)\}/g, ':$1');

/** The topics whose dead letters the app receives: what it consumes, then what it compensates. */
export function deadLetterTopicsOf(app: AppRegistration): string[] {
  return [...new Set([...app.consumes.map((c) => c.event.topic), ...app.compensates.map((e) => e.topic)])];
}

/** Apps serving the dead-letter admin API (public at /api/v1/admin/dead-letters/{appId}), with their topics. */
export function deadLetterAdminApps(
  system: readonly AppRegistration[] = SYSTEM,
): Array<{ appId: string; topics: [string, ...string[]] }> {
  return system.flatMap((app) => {
    const [first, ...rest] = deadLetterTopicsOf(app);
    return app.deadLetters === 'admin-api' && first !== undefined
      ? [{ appId: app.appId, topics: [first, ...rest] }]
      : [];
  });
}

/** The registration of `appId`, or a clear error (a typo must not silently mean "nothing"). */
export function appOf(appId: string, system: readonly AppRegistration[] = SYSTEM): AppRegistration {
  const app = system.find((a) => a.appId === appId);
  if (!app) throw new Error(`registry: no app ${appId}`);
  return app;
}

/** The Dapr pub/sub component of the declarative Subscriptions. */
export const SUBSCRIPTION_PUBSUB = 'pubsub';
/**
 * The component of `everyReplica` Subscriptions: the same broker and exchanges, but one queue per
 * pod (`consumerID: {podName}`), so every replica receives each message (the chart's, and
 * components/local's; decision 0900).
 */
export const BROADCAST_PUBSUB = 'pubsub-broadcast';

export interface SubscriptionSpec {
  name: string;
  appId: string;
  pubsubname: string;
  topic: string;
  route: string;
  /** set on a topic's subscription; a dead-letter subscription has none (it would loop, decision 0303) */
  deadLetterTopic?: string;
  /** dead-letter subscriptions take the broker's bytes whatever they are (decision 0751) */
  rawPayload: boolean;
  /** see ConsumedTopic.everyReplica */
  everyReplica: boolean;
}

/** The app's Subscriptions: each consumed topic, then each dead-letter topic it receives. */
export function subscriptionsOf(app: AppRegistration): SubscriptionSpec[] {
  const name = (topic: string) => `${app.appId}-${topic.replace(/\./g, '-')}`;
  const topics = app.consumes.map(({ event, everyReplica }): SubscriptionSpec => ({
    name: name(event.topic),
    appId: app.appId,
    pubsubname: everyReplica === true ? BROADCAST_PUBSUB : SUBSCRIPTION_PUBSUB,
    topic: event.topic,
    route: `/events/${event.topic}`,
    deadLetterTopic: event.deadLetterTopic,
    rawPayload: false,
    everyReplica: everyReplica === true,
  }));
  const deadLetters = deadLetterTopicsOf(app).map((topic): SubscriptionSpec => {
    const deadLetterTopic = deadLetterTopicOf(topic);
    return {
      name: name(deadLetterTopic),
      appId: app.appId,
      pubsubname: SUBSCRIPTION_PUBSUB,
      topic: deadLetterTopic,
      route: `/events/${deadLetterTopic}`,
      rawPayload: true,
      everyReplica: false,
    };
  });
  return [...topics, ...deadLetters];
}

/** One entry of the chart's values.yaml `events:` (the chart renders the Subscriptions from it). */
export interface ChartEvent {
  topic: string;
  publisher: string;
  consumers: string[];
  /** apps that consume only the dead-letter topic (compensation) */
  deadLetterConsumers?: string[];
}

/** What the chart's `events:` must say, topic by topic in events.ts order (topics nobody consumes are left out). */
export function chartEvents(
  system: readonly AppRegistration[] = SYSTEM,
  events: readonly EventContract[] = EVENTS,
): ChartEvent[] {
  return events.flatMap((event) => {
    const consumers = system
      .filter((app) => app.consumes.some((c) => c.event.topic === event.topic))
      .map((a) => a.appId);
    const compensating = system
      .filter((app) => app.compensates.some((e) => e.topic === event.topic) && !consumers.includes(app.appId))
      .map((a) => a.appId);
    if (consumers.length === 0 && compensating.length === 0) return [];
    return [
      {
        topic: event.topic,
        publisher: event.publisher,
        consumers,
        ...(compensating.length > 0 ? { deadLetterConsumers: compensating } : {}),
      },
    ];
  });
}

/** The topics each app must receive on every replica (the chart's `services.<app>.broadcastTopics`). */
export function everyReplicaTopics(app: AppRegistration): string[] {
  return app.consumes.filter((c) => c.everyReplica === true).map((c) => c.event.topic);
}

/**
 * What is wrong with the registry's gateway caching (ApiOperation.gatewayCache, decision 1000),
 * one line each: a kept operation must be a public GET with one path parameter, every topic that
 * purges it must reach every gateway replica, and `purgesGatewayCache` must name kept operations
 * of its app. The gateway refuses to start on any (services/gateway/src/routes.ts).
 */
export function gatewayCacheProblems(system: readonly AppRegistration[] = SYSTEM): string[] {
  const problems: string[] = [];
  const gateway = system.find((app) => app.appId === 'gateway');
  const broadcast = new Set(gateway ? everyReplicaTopics(gateway) : []);
  for (const app of system) {
    for (const op of app.operations) {
      const name = `${app.appId} ${op.operationId}`;
      if (op.gatewayCache) {
        const parameters = op.path.split('/').filter(isParameter);
        if (op.method !== 'get' || op.access !== 'public' || parameters.length !== 1)
          problems.push(`${name}: only a public GET with one path parameter may be kept by the gateway`);
        for (const { topic } of op.gatewayCache.purgedBy)
          if (!broadcast.has(topic)) problems.push(`${name}: the gateway does not consume ${topic} on every replica`);
      }
      for (const kept of op.purgesGatewayCache ?? []) {
        const target = app.operations.find((o) => o.operationId === kept);
        if (!target?.gatewayCache)
          problems.push(`${name}: purgesGatewayCache names ${kept}, which the gateway does not keep`);
        if (op.method === 'get' || !op.path.split('/').some(isParameter))
          problems.push(`${name}: only a change with a path parameter can purge`);
      }
    }
  }
  return problems;
}
