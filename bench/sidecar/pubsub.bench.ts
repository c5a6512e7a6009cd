/**
 * Pub/sub publish→delivery through the local sidecar, for pubsub.in-memory and
 * pubsub.rabbitmq (real broker, own vhost, persistent delivery + publisher confirms, as
 * Quizmesh configures it) in the same run, against a direct HTTP POST to the app as the
 * baseline. Latency: one message at a time, from the publish request to the app receiving
 * the event. Throughput: messages delivered per second with 32 concurrent publishers.
 * Prints the figures and writes bench/results/sidecar-pubsub.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestVhost } from '@quizmesh/platform/testing';
import { startSidecar } from '@quizmesh/sidecar';

const LATENCY_MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const THROUGHPUT_MESSAGES = Number(process.env.BENCH_THROUGHPUT_MESSAGES ?? 5000);
const CONCURRENCY = 32;
const PAYLOAD = JSON.stringify({
  attemptId: 'a-123',
  quizId: 'q-123',
  playerId: 'p-42',
  answers: [1, 3, 2, 0, 1, 2, 3, 0],
});
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function stats(samples: number[]): { p50: number; p90: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
  };
}

async function main(): Promise<void> {
  const vhost = await createTestVhost('qm_bench_pubsub');
  const work = mkdtempSync(join(tmpdir(), 'qm-bench-pubsub-'));
  const waiting = new Map<string, () => void>();
  const app = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/dapr/subscribe') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            ['memory', 'rabbit'].map((pubsubname) => ({ pubsubname, topic: 'bench', route: `/${pubsubname}` })),
          ),
        );
        return;
      }
      const id =
        req.url === '/direct'
          ? String(req.headers['x-id'])
          : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id;
      waiting.get(id)?.();
      waiting.delete(id);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"SUCCESS"}');
    });
  });
  app.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;

  const resources = join(work, 'resources');
  mkdirSync(resources);
  writeFileSync(
    join(resources, 'memory.yaml'),
    'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memory}\nspec: {type: pubsub.in-memory, version: v1}\n',
  );
  writeFileSync(
    join(resources, 'rabbit.yaml'),
    [
      'apiVersion: dapr.io/v1alpha1',
      'kind: Component',
      'metadata: {name: rabbit}',
      'spec:',
      '  type: pubsub.rabbitmq',
      '  version: v1',
      '  metadata:',
      `  - {name: connectionString, value: "${vhost.url}"}`,
      '  - {name: durable, value: "true"}',
      '  - {name: deletedWhenUnused, value: "false"}',
      '  - {name: deliveryMode, value: "2"}',
      '  - {name: publisherConfirm, value: "true"}',
      '  - {name: prefetchCount, value: "64"}',
      '',
    ].join('\n'),
  );
  const sidecar = await startSidecar({
    appId: 'bench-pubsub',
    appPort,
    daprHttpPort: 0,
    resourcesPaths: [resources],
    logLevel: 'warn',
    env: {},
    registryDir: join(work, 'registry'),
  });
  let sequence = 0;

  /** Publishes one message (or POSTs it straight to the app) and resolves when the app has it. */
  const roundTrip = async (target: 'direct' | 'memory' | 'rabbit'): Promise<void> => {
    const id = `m-${sequence++}`;
    const delivered = new Promise<void>((resolve) => waiting.set(id, resolve));
    const status =
      target === 'direct'
        ? await new Promise<number>((resolve, reject) => {
            const req = http.request(
              {
                host: '127.0.0.1',
                port: appPort,
                path: '/direct',
                method: 'POST',
                agent,
                headers: { 'content-type': 'application/json', 'x-id': id },
              },
              (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              },
            );
            req.on('error', reject);
            req.end(PAYLOAD);
          })
        : await post(sidecar.httpPort, `/v1.0/publish/${target}/bench?metadata.cloudevent.id=${id}`, PAYLOAD);
    if (status !== 204 && status !== 200) throw new Error(`${target}: publish answered ${status}`);
    await delivered;
  };

  try {
    await sidecar.ready;
    const targets = ['direct', 'memory', 'rabbit'] as const;
    // Warm-up: JIT, keep-alive pools, exchange declarations.
    for (const target of targets) for (let i = 0; i < 200; i++) await roundTrip(target);

    const samples = new Map<string, number[]>(targets.map((t) => [t, []]));
    const block = 100;
    // Interleaved blocks so drift (GC, CPU frequency) affects every target alike.
    for (let done = 0; done < LATENCY_MESSAGES; done += block) {
      for (const target of targets) {
        const list = samples.get(target) ?? [];
        for (let i = 0; i < block; i++) {
          const start = process.hrtime.bigint();
          await roundTrip(target);
          list.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }
    }

    const throughput = async (target: (typeof targets)[number]): Promise<number> => {
      let next = 0;
      const started = process.hrtime.bigint();
      const worker = async (): Promise<void> => {
        while (next < THROUGHPUT_MESSAGES) {
          next++;
          await roundTrip(target);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return THROUGHPUT_MESSAGES / (Number(process.hrtime.bigint() - started) / 1e9);
    };
    const rates: Record<string, number> = {};
    for (const target of targets) rates[target] = Math.round(await throughput(target));

    const result = {
      benchmark: 'sidecar-pubsub',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
      payloadBytes: Buffer.byteLength(PAYLOAD),
      latencyMessages: LATENCY_MESSAGES,
      rabbitmq: { deliveryMode: 2, publisherConfirm: true, prefetchCount: 64 },
      publishToDeliveryMs: {
        directHttpBaseline: stats(samples.get('direct') ?? []),
        inMemory: stats(samples.get('memory') ?? []),
        rabbitmq: stats(samples.get('rabbit') ?? []),
      },
      throughputMessagesPerSecond: {
        concurrency: CONCURRENCY,
        messages: THROUGHPUT_MESSAGES,
        directHttpBaseline: rates.direct,
        inMemory: rates.memory,
        rabbitmq: rates.rabbit,
      },
    };
    console.log('publish → delivery latency (ms)');
    for (const [name, s] of Object.entries(result.publishToDeliveryMs))
      console.log(`  ${name.padEnd(20)} p50 ${s.p50}  p90 ${s.p90}  p99 ${s.p99}  mean ${s.mean}`);
    console.log(`throughput (messages/s, ${CONCURRENCY} concurrent publishers)`);
    console.log(
      `  directHttpBaseline   ${rates.direct}\n  inMemory             ${rates.memory}\n  rabbitmq             ${rates.rabbit}`,
    );
    const out = join(__dirname, '..', 'results', 'sidecar-pubsub.json');
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await sidecar.close();
    agent.destroy();
    await new Promise<void>((r) => app.close(() => r()));
    await vhost.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
