/**
 * A consuming service under test, as in production minus the gateway: the real local sidecar
 * (in-process, port 0) with in-memory pub/sub (or components/local's RabbitMQ component on a vhost), a state store (in-memory or Redis with a key
 * prefix of its own), Subscriptions with dead-letter topics and a fast Resiliency inbound
 * policy; the app built by ServiceRuntime with a test consumer and the dead-letter helper.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import {
  CALLER_APP_HEADER,
  loadConfig,
  serviceConfig,
  ServiceRuntime,
  USER_ID_HEADER,
  USER_ROLES_HEADER,
  type DeliveryOutcome,
} from '@quizmesh/platform';
import { mountDeadLetters, type DeadLetterEvent, type DeadLetters } from '@quizmesh/platform/deadletters';
import { backendUrls, deleteRedisKeys, uniqueName } from '@quizmesh/platform/testing';

export type StateBackend = 'state.in-memory' | 'state.redis';
export const TOPICS = ['test.happened', 'test.other'] as const;
export type TestTopic = (typeof TOPICS)[number];

/** What the test consumer does with each event: the "bug" and its "fix". */
export type Behaviour = (data: { n: number }) => DeliveryOutcome;

export interface Delivery {
  topic: TestTopic;
  eventId: string;
  data: { n: number };
  outcome: DeliveryOutcome;
}

export interface ServiceUnderTest {
  url: string;
  appId: string;
  runtime: ServiceRuntime;
  sidecar: RunningSidecar;
  /** the local sidecar registry: another sidecar started on it can invoke this app */
  registryDir: string;
  deadLetters: DeadLetters;
  deliveries: Delivery[];
  hookCalls: Array<{ topic: string } & DeadLetterEvent>;
  setBehaviour(behaviour: Behaviour): void;
  publish(topic: string, data: object, contentType?: string): Promise<void>;
  /** fetch against the app, as the gateway would call it (`roles` undefined: no user) */
  call(
    method: string,
    path: string,
    options?: { roles?: string; body?: unknown },
    headers?: Record<string, string>,
  ): Promise<{ status: number; type: string; json: unknown; location: string | null }>;
  stop(): Promise<void>;
}

const dataSchema = z.object({ n: z.number().int() });

function stateStoreYaml(backend: StateBackend, keyPrefix: string): string {
  const metadata =
    backend === 'state.redis'
      ? `
    - { name: redisHost, value: "${new URL(backendUrls.redis).host}" }
    - { name: keyPrefix, value: "${keyPrefix}" }`
      : ' []';
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: statestore }
spec:
  type: ${backend}
  version: v1
  metadata:${metadata}
`;
}

function subscriptionsYaml(appId: string): string {
  return TOPICS.flatMap((topic) => [
    `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: ${topic.replace('.', '-')} }
spec:
  pubsubname: pubsub
  topic: ${topic}
  routes: { default: /events/${topic} }
  deadLetterTopic: ${topic}.deadletter
scopes: [${appId}]
`,
    `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: ${topic.replace('.', '-')}-deadletter }
spec:
  pubsubname: pubsub
  topic: ${topic}.deadletter
  routes: { default: /events/${topic}.deadletter }
  metadata: { rawPayload: 'true' }
scopes: [${appId}]
`,
  ]).join('---\n');
}

// Few, fast retries: a RETRY answer is dead-lettered after three attempts within milliseconds.
const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: { name: test }
spec:
  policies:
    retries:
      fast: { policy: constant, duration: 5ms, maxRetries: 2 }
  targets:
    components:
      pubsub:
        inbound: { retry: fast }
`;

export interface ServiceOptions {
  /** use components/local/pubsub.yaml (the local platform's RabbitMQ component) on this amqp URL */
  rabbitmqUrl?: string;
  /** the sidecar's logger (default: silent) */
  sidecarLogger?: Logger;
}

function pubsubYaml(rabbitmqUrl: string | undefined): string {
  if (rabbitmqUrl === undefined)
    return 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: pubsub }\nspec: { type: pubsub.in-memory, version: v1, metadata: [] }\n';
  const local = readFileSync(join(__dirname, '../../../components/local/pubsub.yaml'), 'utf8');
  return local.replace(/amqp:\/\/[^\s'"]+/, rabbitmqUrl);
}

export async function startService(backend: StateBackend, options: ServiceOptions = {}): Promise<ServiceUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-deadletters-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    // A fresh app id per service: the Redis keys (prefix) and the registry entry are its own.
    const appId = uniqueName('dl').replace(/_/g, '-');
    // Run last: what the service left in the shared Redis (replay jobs have no TTL).
    if (backend === 'state.redis') cleanups.unshift(async () => void (await deleteRedisKeys(`${appId}||*`)));
    const resources = join(dir, 'resources');
    mkdirSync(resources);
    writeFileSync(join(resources, 'pubsub.yaml'), pubsubYaml(options.rabbitmqUrl));
    writeFileSync(join(resources, 'statestore.yaml'), stateStoreYaml(backend, appId));
    writeFileSync(join(resources, 'subscriptions.yaml'), subscriptionsYaml(appId));
    writeFileSync(join(resources, 'resiliency.yaml'), RESILIENCY);

    let handler: http.RequestListener = (_req, res) => {
      res.writeHead(503).end();
    };
    const server = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const appPort = (server.address() as AddressInfo).port;
    const sidecar = await startSidecar({
      appId,
      appPort,
      daprHttpPort: 0,
      resourcesPaths: [resources],
      registryDir: join(dir, 'registry'),
      logLevel: 'silent',
      logger: options.sidecarLogger,
      env: {},
    });
    cleanups.push(() => sidecar.close());

    const config = loadConfig(serviceConfig({}, { PORT: 0 }), {
      DAPR_HTTP_PORT: String(sidecar.httpPort),
      LOG_LEVEL: 'silent',
    });
    const runtime = new ServiceRuntime({ service: appId, config, exit: () => undefined });
    cleanups.push(() => runtime.dapr.close());

    const deliveries: Delivery[] = [];
    const hookCalls: ServiceUnderTest['hookCalls'] = [];
    let behaviour: Behaviour = () => 'SUCCESS';
    let deadLetters: DeadLetters | undefined;
    const app = runtime.createApp({
      routes: (a) => {
        for (const topic of TOPICS) {
          runtime.subscriptions.add(a, {
            pubsub: 'pubsub',
            topic,
            schema: dataSchema,
            handler: async (data, envelope) => {
              const outcome = behaviour(data);
              deliveries.push({ topic, eventId: envelope.id, data, outcome });
              return outcome;
            },
          });
        }
        deadLetters = mountDeadLetters(a, {
          runtime,
          topics: TOPICS,
          onDeadLetter: async (topic, deadLetter) => {
            hookCalls.push({ topic, ...deadLetter });
          },
        });
      },
    });
    if (!deadLetters) throw new Error('dead letters were not mounted');
    const mounted = deadLetters;
    handler = app;
    await sidecar.ready;
    // Leave nothing behind in Redis: every dead letter, resolved ones included.
    cleanups.push(() => mounted.store.clear());

    const url = `http://127.0.0.1:${appPort}`;
    return {
      url,
      appId,
      runtime,
      sidecar,
      registryDir: join(dir, 'registry'),
      deadLetters: mounted,
      deliveries,
      hookCalls,
      setBehaviour(next) {
        behaviour = next;
      },
      publish: (topic, data, contentType) =>
        runtime.dapr.publish('pubsub', topic, data, contentType ? { contentType } : {}),
      async call(method, path, options = {}, extraHeaders = {}) {
        const headers: Record<string, string> = { [CALLER_APP_HEADER]: 'gateway', ...extraHeaders };
        if (options.roles !== undefined) {
          headers[USER_ID_HEADER] = '0b7d3c1e-6a59-4d83-9f0e-0d6f2a1c9b10';
          headers[USER_ROLES_HEADER] = options.roles;
        }
        if (options.body !== undefined) headers['content-type'] = 'application/json';
        const res = await fetch(`${url}${path}`, {
          method,
          headers,
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        });
        const text = await res.text();
        return {
          status: res.status,
          type: res.headers.get('content-type') ?? '',
          json: text ? (JSON.parse(text) as unknown) : undefined,
          location: res.headers.get('location'),
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
