/**
 * Programmatic subscriptions (`GET {app}/dapr/subscribe`) and their merge with the
 * declarative ones (daprd `pkg/runtime/pubsub/subscriptions.go`).
 */
import type { Logger } from 'pino';
import type { AppChannel } from '../app-channel/types';
import type { SubscriptionRule, SubscriptionSpec } from '../resources/types';

const FETCH_ATTEMPTS = 3;
const FIRST_RETRY_DELAY_MS = 500;
const FETCH_TIMEOUT_MS = 5000;

function appHeaders(app: AppChannel): Record<string, string> {
  const headers: Record<string, string> = { 'dapr-app-id': app.appId };
  if (app.appApiToken) headers['dapr-api-token'] = app.appApiToken;
  return headers;
}

/** Ensures exactly one leading slash, as the app channel joins base URL and path. */
export function normalizePath(path: string): string {
  return `/${path.replace(/^\/+/, '')}`;
}

/**
 * Asks the app once for its subscriptions, retrying only when the app cannot be reached
 * (3 tries, exponential back-off). Any status other than 200 means "no subscriptions".
 */
export async function fetchProgrammaticSubscriptions(
  app: AppChannel,
  baseUrl: string,
  logger: Logger,
): Promise<SubscriptionSpec[]> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= FETCH_ATTEMPTS; attempt++) {
    try {
      const response = await fetch(`${baseUrl}/dapr/subscribe`, {
        headers: appHeaders(app),
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status !== 200) {
        logger.debug({ status: response.status }, 'app returned no programmatic subscriptions');
        return [];
      }
      return parseProgrammaticSubscriptions(text, logger);
    } catch (err) {
      lastError = err;
      if (attempt < FETCH_ATTEMPTS)
        await new Promise((resolve) => setTimeout(resolve, FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1)));
    }
  }
  logger.error(
    { err: (lastError as Error).message },
    'could not fetch /dapr/subscribe from the app; no programmatic subscriptions',
  );
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') return undefined;
    out[key] = item;
  }
  return out;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Parses the `/dapr/subscribe` JSON array; invalid items are skipped with an error log. */
export function parseProgrammaticSubscriptions(body: string, logger: Logger): SubscriptionSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    logger.error({ err: (err as Error).message }, '/dapr/subscribe did not return JSON; no programmatic subscriptions');
    return [];
  }
  if (!Array.isArray(parsed)) {
    logger.error('/dapr/subscribe must return a JSON array; no programmatic subscriptions');
    return [];
  }
  const result: SubscriptionSpec[] = [];
  for (const item of parsed) {
    const problem = (reason: string): void => {
      logger.error({ subscription: item as unknown, reason }, 'skipping invalid programmatic subscription');
    };
    if (!isRecord(item)) {
      problem('not an object');
      continue;
    }
    const { pubsubname, topic, route, routes, deadLetterTopic, bulkSubscribe } = item;
    if (typeof pubsubname !== 'string' || pubsubname === '' || typeof topic !== 'string' || topic === '') {
      problem('pubsubname and topic must be non-empty strings');
      continue;
    }
    const metadata = stringMap(item.metadata);
    if (!metadata) {
      problem('metadata values must be strings');
      continue;
    }
    const rules: SubscriptionRule[] = [];
    let defaultPath = typeof route === 'string' && route !== '' ? route : undefined;
    if (isRecord(routes)) {
      for (const rule of Array.isArray(routes.rules) ? routes.rules : []) {
        if (isRecord(rule) && typeof rule.path === 'string' && rule.path !== '') {
          rules.push({ match: typeof rule.match === 'string' ? rule.match : '', path: normalizePath(rule.path) });
        }
      }
      if (typeof routes.default === 'string' && routes.default !== '') defaultPath = routes.default;
    }
    if (defaultPath !== undefined) rules.push({ match: '', path: normalizePath(defaultPath) });
    if (rules.length === 0) {
      problem('no route');
      continue;
    }
    const spec: SubscriptionSpec = { pubsubname, topic, rules, metadata, origin: 'programmatic' };
    if (typeof deadLetterTopic === 'string' && deadLetterTopic !== '') spec.deadLetterTopic = deadLetterTopic;
    if (isRecord(bulkSubscribe)) {
      spec.bulkSubscribe = {
        enabled: bulkSubscribe.enabled === true,
        maxMessagesCount: optionalNumber(bulkSubscribe.maxMessagesCount),
        maxAwaitDurationMs: optionalNumber(bulkSubscribe.maxAwaitDurationMs),
      };
    }
    result.push(spec);
  }
  return result;
}

/**
 * Programmatic first, then declarative; a later subscription to a pubsub/topic that is
 * already subscribed is ignored with a warning (one subscription per topic, as daprd keys them).
 */
export function mergeSubscriptions(
  programmatic: SubscriptionSpec[],
  declarative: SubscriptionSpec[],
  logger: Logger,
): SubscriptionSpec[] {
  const seen = new Set<string>();
  const merged: SubscriptionSpec[] = [];
  for (const subscription of [...programmatic, ...declarative]) {
    const key = `${subscription.pubsubname}||${subscription.topic}`;
    if (seen.has(key)) {
      logger.warn(
        { pubsub: subscription.pubsubname, topic: subscription.topic, origin: subscription.origin },
        'duplicate subscription for the same pubsub and topic ignored',
      );
      continue;
    }
    seen.add(key);
    merged.push({
      ...subscription,
      rules: subscription.rules.map((rule) => ({ match: rule.match, path: normalizePath(rule.path) })),
    });
  }
  return merged;
}
