/**
 * Quizmesh's metrics: the catalogue (names, units, attributes) and the one place each instrument
 * is created. Only the OpenTelemetry API is used here: with telemetry off the global
 * MeterProvider is the API's no-op and recording costs a function call; with it on, `sdk.ts`
 * has registered the SDK's provider before any instrument is created.
 *
 * Cardinality stays bounded: routes are templates (`/api/v1/quizzes/{id}`), topics and outcomes
 * come from fixed sets, and no user, quiz or attempt id is ever an attribute.
 */
import { metrics, ValueType, type Meter, type MeterProvider } from '@opentelemetry/api';

export type MetricKind = 'histogram' | 'counter' | 'updowncounter' | 'gauge';

export interface CatalogueEntry {
  name: string;
  kind: MetricKind;
  unit: string;
  description: string;
  /** attribute key → its allowed values (`null`: any value of bounded cardinality, e.g. a route template) */
  attributes: Readonly<Record<string, readonly (string | number)[] | null>>;
  /** emitted by @opentelemetry/instrumentation-runtime-node, not by our code */
  runtime?: true;
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', '_OTHER'];
export const CONSUMER_OUTCOMES = ['success', 'retry', 'drop'] as const;
export const GATEWAY_REJECTION_REASONS = ['rate_limit', 'circuit_open'] as const;
export const RECONCILE_RESULTS = ['success', 'error', 'requeue'] as const;
export const GATEWAY_CACHE_RESULTS = ['hit', 'miss'] as const;
export type ConsumerOutcome = (typeof CONSUMER_OUTCOMES)[number];
export type GatewayRejectionReason = (typeof GATEWAY_REJECTION_REASONS)[number];
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];
export type GatewayCacheResult = (typeof GATEWAY_CACHE_RESULTS)[number];

/** The agreed catalogue; the chart's dashboards may query exactly these. */
export const METRIC_CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'http.server.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of HTTP server requests, by route template',
    attributes: { 'http.request.method': HTTP_METHODS, 'http.route': null, 'http.response.status_code': null },
  },
  {
    name: 'quizmesh.outbox.backlog',
    kind: 'gauge',
    unit: '{event}',
    description: 'Outbox rows not yet sent',
    attributes: {},
  },
  {
    name: 'quizmesh.outbox.oldest_age',
    kind: 'gauge',
    unit: 's',
    description: 'Age of the oldest unsent outbox row (0 when none)',
    attributes: {},
  },
  {
    name: 'quizmesh.consumer.messages',
    kind: 'counter',
    unit: '{message}',
    description: 'Pub/sub deliveries handled, by topic and outcome',
    attributes: { 'messaging.destination.name': null, 'quizmesh.outcome': CONSUMER_OUTCOMES },
  },
  {
    name: 'quizmesh.deadletters.open',
    kind: 'gauge',
    unit: '{message}',
    description: 'Dead letters held open by this app',
    attributes: {},
  },
  {
    name: 'quizmesh.submission.scoring.lag',
    kind: 'histogram',
    unit: 's',
    description: 'From an attempt submitted to its score committed',
    attributes: {},
  },
  {
    name: 'quizmesh.submission.streaming.lag',
    kind: 'histogram',
    unit: 's',
    description: 'From a score committed to its leaderboard written to a live stream',
    attributes: {},
  },
  {
    name: 'quizmesh.sse.connections',
    kind: 'updowncounter',
    unit: '{connection}',
    description: 'Open live streams',
    attributes: {},
  },
  {
    name: 'quizmesh.gateway.rejections',
    kind: 'counter',
    unit: '{request}',
    description: 'Requests the gateway refused before they reached a service',
    attributes: { 'quizmesh.reason': GATEWAY_REJECTION_REASONS },
  },
  {
    name: 'quizmesh.gateway.cache.lookups',
    kind: 'counter',
    unit: '{request}',
    description:
      'Reads of an answer the gateway may keep (decision 1000): served from its cache (hit) or forwarded (miss)',
    attributes: { 'quizmesh.result': GATEWAY_CACHE_RESULTS },
  },
  {
    name: 'quizmesh.operator.reconciles',
    kind: 'counter',
    unit: '{reconcile}',
    description: 'Reconciles of Quiz resources, by result',
    attributes: { 'quizmesh.result': RECONCILE_RESULTS },
  },
  {
    name: 'quizmesh.operator.reconcile.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of a reconcile of a Quiz resource',
    attributes: {},
  },
  {
    name: 'nodejs.eventloop.utilization',
    kind: 'gauge',
    unit: '1',
    description: 'Event loop utilization',
    attributes: {},
    runtime: true,
  },
  {
    name: 'v8js.memory.heap.used',
    kind: 'gauge',
    unit: 'By',
    description: 'V8 heap used, by heap space',
    attributes: { 'v8js.heap.space.name': null },
    runtime: true,
  },
];

/** The semantic conventions' buckets for HTTP durations, in seconds; also right for the lags. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

function entry(name: string): CatalogueEntry {
  const found = METRIC_CATALOGUE.find((m) => m.name === name);
  if (!found) throw new Error(`${name} is not in the metric catalogue`);
  return found;
}

function createInstruments(meter: Meter) {
  const histogram = (name: string) => {
    const { unit, description } = entry(name);
    return meter.createHistogram(name, {
      unit,
      description,
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
  };
  const counter = (name: string) => {
    const { unit, description } = entry(name);
    return meter.createCounter(name, { unit, description, valueType: ValueType.INT });
  };
  const gauge = (name: string) => {
    const { unit, description } = entry(name);
    return meter.createObservableGauge(name, { unit, description });
  };
  const sse = entry('quizmesh.sse.connections');
  return {
    meter,
    httpDuration: histogram('http.server.request.duration'),
    outboxBacklog: gauge('quizmesh.outbox.backlog'),
    outboxOldestAge: gauge('quizmesh.outbox.oldest_age'),
    consumerMessages: counter('quizmesh.consumer.messages'),
    deadLettersOpen: gauge('quizmesh.deadletters.open'),
    scoringLag: histogram('quizmesh.submission.scoring.lag'),
    streamingLag: histogram('quizmesh.submission.streaming.lag'),
    sseConnections: meter.createUpDownCounter(sse.name, {
      unit: sse.unit,
      description: sse.description,
      valueType: ValueType.INT,
    }),
    gatewayRejections: counter('quizmesh.gateway.rejections'),
    gatewayCacheLookups: counter('quizmesh.gateway.cache.lookups'),
    reconciles: counter('quizmesh.operator.reconciles'),
    reconcileDuration: histogram('quizmesh.operator.reconcile.duration'),
  };
}

let cached: { provider: MeterProvider; instruments: ReturnType<typeof createInstruments> } | undefined;

/** The instruments of the current global MeterProvider (the no-op one until the SDK registers). */
function instruments(): ReturnType<typeof createInstruments> {
  const provider = metrics.getMeterProvider();
  if (cached?.provider !== provider) {
    cached = { provider, instruments: createInstruments(provider.getMeter('quizmesh')) };
  }
  return cached.instruments;
}

/** Express's `/quizzes/:id` as the OpenAPI document and the gateway's table spell it: `/quizzes/{id}`. */
export function routeTemplate(expressPath: string): string {
  return expressPath.replace(/:(\w+)\??/g, '{$1}');
}

export function recordHttpRequest(options: {
  method: string;
  /** a template, never a raw path; undefined when no route matched */
  route: string | undefined;
  status: number;
  seconds: number;
}): void {
  const method = HTTP_METHODS.includes(options.method) ? options.method : '_OTHER';
  instruments().httpDuration.record(options.seconds, {
    'http.request.method': method,
    'http.response.status_code': options.status,
    ...(options.route !== undefined ? { 'http.route': options.route } : {}),
  });
}

export function recordConsumedMessage(topic: string, outcome: ConsumerOutcome): void {
  instruments().consumerMessages.add(1, { 'messaging.destination.name': topic, 'quizmesh.outcome': outcome });
}

export function recordScoringLag(seconds: number): void {
  instruments().scoringLag.record(Math.max(0, seconds));
}

export function recordStreamingLag(seconds: number): void {
  instruments().streamingLag.record(Math.max(0, seconds));
}

/** +1 when a live stream opens, -1 when it ends. */
export function recordSseConnections(delta: 1 | -1): void {
  instruments().sseConnections.add(delta);
}

export function recordGatewayRejection(reason: GatewayRejectionReason): void {
  instruments().gatewayRejections.add(1, { 'quizmesh.reason': reason });
}

export function recordGatewayCacheLookup(result: GatewayCacheResult): void {
  instruments().gatewayCacheLookups.add(1, { 'quizmesh.result': result });
}

export function recordReconcile(result: ReconcileResult, seconds: number): void {
  const { reconciles, reconcileDuration } = instruments();
  reconciles.add(1, { 'quizmesh.result': result });
  reconcileDuration.record(seconds);
}

/**
 * Reports the outbox's backlog and oldest age at each metric collection, read by `read` (one
 * query); returns the function that stops it. A failing read reports nothing that time.
 */
export function observeOutbox(read: () => Promise<{ backlog: number; oldestAgeSeconds: number }>): () => void {
  const { meter, outboxBacklog, outboxOldestAge } = instruments();
  const callback = async (result: { observe(gauge: typeof outboxBacklog, value: number): void }): Promise<void> => {
    const state = await read().catch(() => undefined);
    if (!state) return;
    result.observe(outboxBacklog, state.backlog);
    result.observe(outboxOldestAge, state.oldestAgeSeconds);
  };
  meter.addBatchObservableCallback(callback, [outboxBacklog, outboxOldestAge]);
  return () => meter.removeBatchObservableCallback(callback, [outboxBacklog, outboxOldestAge]);
}

/** Reports the dead letters held open (counted by `count`) at each collection; returns the function that stops it. */
export function observeOpenDeadLetters(count: () => Promise<number>): () => void {
  const { deadLettersOpen } = instruments();
  const callback = async (result: { observe(value: number): void }): Promise<void> => {
    const open = await count().catch(() => undefined);
    if (open !== undefined) result.observe(open);
  };
  deadLettersOpen.addCallback(callback);
  return () => deadLettersOpen.removeCallback(callback);
}
