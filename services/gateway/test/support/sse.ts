/**
 * A Server-Sent Events reader on plain node:http (what a browser's EventSource does, minus the
 * reconnecting): frames are parsed as the WHATWG spec says, comments (heartbeats) are kept.
 * Also the pub/sub resources the stream tests give the sidecars (RabbitMQ in a test vhost).
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SseParser } from '@quizmesh/platform/testing';
import { startHarness, type Harness, type HarnessOptions } from './harness';

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the body, for answers that are not streams (problem+json) */
  body: string;
  events: SseEvent[];
  comments: string[];
  retry: number | undefined;
  /** resolves with the first event (from the start) matching `predicate` */
  next(predicate: (e: SseEvent) => boolean): Promise<SseEvent>;
  /** resolves once `count` comment lines have arrived */
  commentsSeen(count: number): Promise<void>;
  /** resolves when the server ends the stream */
  ended: Promise<void>;
  /** the response, paused: for back-pressure tests (never reads again) */
  response: http.IncomingMessage;
  close(): void;
}

export interface OpenStreamOptions {
  /** path and query, default /api/v1/stream */
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  /** do not read the body (a client that stops reading) */
  paused?: boolean;
}

/** Opens the stream; resolves once the answer's headers arrived (and for a non-stream answer, its body). */
export function openStream(port: number, options: OpenStreamOptions = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'GET',
        path: options.path ?? '/api/v1/stream',
        headers: { accept: 'text/event-stream', ...options.headers },
        agent: false,
      },
      (res) => {
        const events: SseEvent[] = [];
        const comments: string[] = [];
        const waiters: Array<() => void> = [];
        const notify = () => {
          for (const waiter of waiters.splice(0)) waiter();
        };
        const parser = new SseParser();
        let endedResolve: () => void = () => undefined;
        const ended = new Promise<void>((r) => (endedResolve = r));
        const stream: SseStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: '',
          events,
          comments,
          retry: undefined,
          ended,
          response: res,
          next: (predicate) =>
            new Promise((resolveEvent, rejectEvent) => {
              const check = () => {
                const found = events.find(predicate);
                if (found) resolveEvent(found);
                else if (res.complete || res.destroyed) rejectEvent(new Error('the stream ended without that event'));
                else waiters.push(check);
              };
              check();
            }),
          commentsSeen: (count) =>
            new Promise((resolveSeen, rejectSeen) => {
              const check = () => {
                if (comments.length >= count) resolveSeen();
                else if (res.complete || res.destroyed) rejectSeen(new Error('the stream ended first'));
                else waiters.push(check);
              };
              check();
            }),
          close: () => {
            req.destroy();
            res.destroy();
          },
        };
        const isStream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
        if (options.paused && isStream) {
          res.pause();
          resolve(stream);
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!isStream) {
            stream.body += chunk;
            return;
          }
          for (const frame of parser.feed(chunk)) {
            comments.push(...frame.comments);
            if (frame.retry !== undefined) stream.retry = frame.retry;
            if (frame.data !== undefined) events.push({ event: frame.event, id: frame.id, data: frame.data });
          }
          notify();
        });
        const finish = () => {
          endedResolve();
          notify();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
        if (isStream) resolve(stream);
        else res.on('end', () => resolve(stream));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export const jsonData = <T>(event: SseEvent): T => JSON.parse(event.data) as T;

const COMMON = join(__dirname, '..', '..', '..', '..', 'components', 'common');

/**
 * The production Subscriptions of the gateway, unchanged: the stream's topics through
 * `pubsub-broadcast`, their dead letters through `pubsub`, as `npm start` and the chart run them
 * (decision 0900).
 */
export const gatewaySubscriptionsYaml = (): string => readFileSync(join(COMMON, 'subscriptions-gateway.yaml'), 'utf8');

/**
 * `pubsub` (one durable queue per app, as components/local) and `pubsub-broadcast` (one queue
 * per pod, with the chart's settings) on a test vhost. They share each topic's exchange, which
 * daprd declares with the component's durable/deletedWhenUnused, so both use the same flags
 * (decision 0710). The vhost is dropped after the run, queues with it.
 */
export function rabbitPubsubComponents(amqpUrl: string): Record<string, string> {
  const component = (name: string, extra: string[], scopes = '') => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec:
  type: pubsub.rabbitmq
  version: v1
  metadata:
${[`{ name: connectionString, value: ${JSON.stringify(amqpUrl)} }`, ...extra].map((entry) => `    - ${entry}\n`).join('')}${scopes}`;
  const shared = ['{ name: durable, value: "true" }', '{ name: deletedWhenUnused, value: "false" }'];
  const requeue = '{ name: requeueInFailure, value: "false" }';
  return {
    'pubsub.yaml': component('pubsub', [...shared, requeue]),
    'pubsub-broadcast.yaml': component(
      'pubsub-broadcast',
      ['{ name: consumerID, value: "{podName}" }', ...shared, '{ name: maxLen, value: "1000" }', requeue],
      'scopes: [gateway]\n',
    ),
  };
}

/**
 * One gateway replica per pod name on the RabbitMQ vhost at `amqpUrl`, each with its own
 * `pubsub-broadcast` queue (POD_NAME) and the generated gateway Subscriptions, as the chart runs
 * them. Started one after another and added to `into` as each comes up, so a caller's afterAll
 * closes the ones that started even when a later one fails.
 */
export async function startBroadcastReplicas(
  amqpUrl: string,
  pods: string[],
  options: Pick<HarnessOptions, 'apps' | 'env'>,
  into: Harness[],
): Promise<Harness> {
  for (const pod of pods) {
    into.push(
      await startHarness({
        apps: options.apps,
        env: { ...options.env, BROADCAST_PUBSUB_NAME: 'pubsub-broadcast' },
        gatewaySidecarEnv: { POD_NAME: pod },
        resources: {
          ...rabbitPubsubComponents(amqpUrl),
          'subscriptions-gateway.yaml': gatewaySubscriptionsYaml(),
        },
      }),
    );
  }
  const [first] = into;
  if (!first) throw new Error('no replica started');
  return first;
}
