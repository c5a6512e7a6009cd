/**
 * The chart against the system registry (@quizmesh/contracts/registry): its values.yaml
 * `events:` (from which it renders the Subscriptions), each service's `broadcastTopics`, and
 * the rendered Subscriptions themselves must say what the registry says. The chart keeps its
 * own copy because Helm cannot read TypeScript; this check is what keeps the copy true.
 */
import {
  SYSTEM,
  chartEvents,
  everyReplicaTopics,
  subscriptionsOf,
  type AppRegistration,
} from '@quizmesh/contracts/system';
import { asArray, asRecord, asString, pathGet, type KubeObject } from './objects';

/** One `events:` entry as a comparable line (the order of apps in a list means nothing). */
const normalise = (events: unknown) =>
  asArray(events).map((entry) => {
    const e = asRecord(entry);
    const deadLetterConsumers = asArray(e.deadLetterConsumers).map(String).sort();
    return JSON.stringify({
      topic: e.topic,
      publisher: e.publisher,
      consumers: asArray(e.consumers).map(String).sort(),
      ...(deadLetterConsumers.length > 0 ? { deadLetterConsumers } : {}),
    });
  });

/** `<app> <topic> -> <route> dlq=<topic|-> raw=<bool>`: what a Subscription does, whatever its name or pubsub. */
const summary = (app: string, topic: string, route: string, deadLetterTopic: string | undefined, raw: boolean) =>
  `${app} ${topic} -> ${route} dlq=${deadLetterTopic ?? '-'} raw=${String(raw)}`;

/**
 * What differs between the chart and the registry, one line each (empty: they agree).
 * `values` is the chart's values (parsed values.yaml, or merged with a variant's);
 * `rendered` what helm rendered with them.
 */
export function chartRegistryMismatches(
  values: unknown,
  rendered: readonly KubeObject[],
  system: readonly AppRegistration[] = SYSTEM,
): string[] {
  const problems: string[] = [];
  const declared = normalise(pathGet(values, 'events'));
  const expected = normalise(chartEvents(system));
  for (const line of expected.filter((e) => !declared.includes(e)))
    problems.push(`values.yaml events: missing ${line}`);
  for (const line of declared.filter((e) => !expected.includes(e)))
    problems.push(`values.yaml events: not in the registry ${line}`);

  for (const app of system) {
    const broadcast = asArray(pathGet(values, `services.${app.appId}.broadcastTopics`))
      .map(String)
      .sort();
    const want = everyReplicaTopics(app).sort();
    if (JSON.stringify(broadcast) !== JSON.stringify(want))
      problems.push(
        `values.yaml services.${app.appId}.broadcastTopics: ${JSON.stringify(broadcast)}, registry says ${JSON.stringify(want)}`,
      );
  }

  // A service switched off renders none of its Subscriptions.
  const enabled = new Set(
    system.filter((app) => pathGet(values, `services.${app.appId}.enabled`) !== false).map((app) => app.appId),
  );
  const renderedSubs = rendered
    .filter((o) => o.kind === 'Subscription')
    .map((o) =>
      summary(
        asArray(o.scopes).map(String).join(','),
        String(pathGet(o, 'spec.topic')),
        String(pathGet(o, 'spec.routes.default')),
        asString(pathGet(o, 'spec.deadLetterTopic')),
        pathGet(o, 'spec.metadata.rawPayload') === 'true',
      ),
    )
    .sort();
  const registrySubs = system
    .filter((app) => enabled.has(app.appId))
    .flatMap(subscriptionsOf)
    .map((s) => summary(s.appId, s.topic, s.route, s.deadLetterTopic, s.rawPayload))
    .sort();
  for (const line of registrySubs.filter((s) => !renderedSubs.includes(s)))
    problems.push(`rendered Subscriptions: missing ${line}`);
  for (const line of renderedSubs.filter((s) => !registrySubs.includes(s)))
    problems.push(`rendered Subscriptions: not in the registry ${line}`);
  return problems;
}
