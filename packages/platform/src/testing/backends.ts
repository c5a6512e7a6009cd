/**
 * Real backends for tests: PostgreSQL, Redis and RabbitMQ run on every developer and CI
 * machine on their standard ports. Each helper gives a test its own namespace (database,
 * key prefix, vhost) so parallel runs never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Client } from 'pg';

const run = promisify(execFile);

export const backendUrls = {
  postgresAdmin: process.env.QUIZMESH_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  redis: process.env.QUIZMESH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  rabbitmq: process.env.QUIZMESH_TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};

/** Deletes every Redis key matching `pattern` (SCAN, never KEYS); returns how many went. */
export async function deleteRedisKeys(pattern: string): Promise<number> {
  const redis = new Redis(backendUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** A short random suffix safe for database, vhost and key names. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export interface QueueState {
  /** messages waiting for a consumer */
  ready: number;
  /** messages delivered and not yet acknowledged */
  unacknowledged: number;
  consumers: number;
}

/** The columns `queues()` asks `rabbitmqctl list_queues` for, in this order. */
export const QUEUE_LIST_COLUMNS = ['name', 'messages_ready', 'messages_unacknowledged', 'consumers'] as const;

/** Parses `rabbitmqctl -q list_queues <QUEUE_LIST_COLUMNS> --no-table-headers` (whitespace-separated rows). */
export function parseQueueList(stdout: string): Map<string, QueueState> {
  const queues = new Map<string, QueueState>();
  for (const line of stdout.split('\n')) {
    const [name, ready, unacknowledged, consumers] = line.trim().split(/\s+/);
    if (!name) continue;
    const state = { ready: Number(ready), unacknowledged: Number(unacknowledged), consumers: Number(consumers) };
    if (Object.values(state).some((n) => !Number.isInteger(n)))
      throw new Error(`unexpected rabbitmqctl list_queues line: ${JSON.stringify(line)}`);
    queues.set(name, state);
  }
  return queues;
}

/** Creates an empty PostgreSQL database; `drop()` removes it (terminating leftover sessions). */
export async function createTestDatabase(prefix = 'qm_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  const admin = new Client({ connectionString: backendUrls.postgresAdmin });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(backendUrls.postgresAdmin);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: backendUrls.postgresAdmin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestVhost {
  name: string;
  /** amqp URL pointing at the vhost */
  url: string;
  /** every queue of the vhost with its depths and consumers, by name */
  queues(): Promise<Map<string, QueueState>>;
  drop(): Promise<void>;
}

/** Creates a RabbitMQ vhost (via rabbitmqctl, which every dev/CI machine has) granting guest full rights. */
export async function createTestVhost(prefix = 'qm_test'): Promise<TestVhost> {
  const name = uniqueName(prefix);
  await run('rabbitmqctl', ['-q', 'add_vhost', name]);
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  const base = new URL(backendUrls.rabbitmq);
  return {
    name,
    url: `${base.protocol}//${base.username}:${base.password}@${base.host}/${encodeURIComponent(name)}`,
    async queues() {
      const args = ['-q', 'list_queues', '-p', name, ...QUEUE_LIST_COLUMNS, '--no-table-headers'];
      return parseQueueList((await run('rabbitmqctl', args)).stdout);
    },
    async drop() {
      await run('rabbitmqctl', ['-q', 'delete_vhost', name]).catch(() => undefined);
    },
  };
}

/** A Redis key prefix unique to this test; callers delete `${prefix}*` when done. */
export function redisKeyPrefix(prefix = 'qmtest'): string {
  return `${uniqueName(prefix)}:`;
}
