/**
 * Instances of `npm start` side by side: each `--instance` name, or else each non-zero
 * `--port-offset`, gets a state dir of its own and, on `--backends=local`, a namespace of its own
 * on the machine's PostgreSQL, Redis and RabbitMQ (the same RunIsolation the tests use). The
 * default instance keeps the plain names (`quizmesh_<service>`, vhost `/`). `npm run reset`
 * removes one instance's data.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { isProcessAlive } from '@quizmesh/platform/process';
import { type RunIsolation } from './launcher';
import type { ServiceDefinition } from './services';

const run = promisify(execFile);

const LOCAL = {
  postgres: 'postgresql://postgres@127.0.0.1:5432/postgres',
  redis: 'redis://127.0.0.1:6379',
  rabbitmq: { user: 'guest', password: 'guest', host: '127.0.0.1:5672' },
};

/** What `--instance` accepts: it becomes part of database, vhost and key names. */
export const INSTANCE_NAME = /^[a-z][a-z0-9_]{0,29}$/;

/** The instance's id: the name given, `offset<N>` for a non-zero offset, or undefined (the default instance). */
export function instanceId(options: { instance?: string; portOffset: number }): string | undefined {
  if (options.instance !== undefined) return options.instance;
  return options.portOffset === 0 ? undefined : `offset${options.portOffset}`;
}

/** `.quizmesh` for the default instance, `.quizmesh/instances/<id>` for the others. */
export function instanceStateDir(base: string, id: string | undefined): string {
  return id === undefined ? base : join(base, 'instances', id);
}

/** The instance's RabbitMQ vhost (named as the instance, created if missing) and namespace. */
export async function ensureLocalIsolation(id: string): Promise<RunIsolation> {
  await run('rabbitmqctl', ['-q', 'add_vhost', id]);
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', id, LOCAL.rabbitmq.user, '.*', '.*', '.*']);
  const { user, password, host } = LOCAL.rabbitmq;
  return { runId: id, rabbitmqUrl: `amqp://${user}:${password}@${host}/${encodeURIComponent(id)}` };
}

/**
 * Removes one instance's data: its state dir's embedded PostgreSQL cluster, and on the local
 * servers its databases, its Redis keys and (named instances) its vhost. Refuses while that
 * instance runs. Returns one line per thing removed.
 */
export async function resetInstance(options: {
  id: string | undefined;
  stateDir: string;
  services: ServiceDefinition[];
  local: boolean;
}): Promise<string[]> {
  const { id, stateDir, services } = options;
  const pidFile = join(stateDir, 'launcher.pids.json');
  if (existsSync(pidFile)) {
    const { launcher } = JSON.parse(readFileSync(pidFile, 'utf8')) as { launcher: number };
    if (launcher !== process.pid && isProcessAlive(launcher))
      throw new Error(`Quizmesh (pid ${launcher}) is running from ${stateDir}; stop it first`);
  }
  const done: string[] = [];
  for (const dir of ['postgres', 'pglite']) {
    if (!existsSync(join(stateDir, dir))) continue;
    rmSync(join(stateDir, dir), { recursive: true, force: true });
    done.push(`removed ${join(stateDir, dir)}`);
  }
  if (!options.local) return done;

  const databases = services
    .filter((s) => s.database)
    .map((s) => (id ? `quizmesh_${s.name}_${id}` : `quizmesh_${s.name}`));
  const pg = new Client({ connectionString: LOCAL.postgres, connectionTimeoutMillis: 3_000 });
  await pg.connect();
  try {
    for (const name of databases) {
      const { rowCount } = await pg.query('select 1 from pg_database where datname = $1', [name]);
      if (!rowCount) continue;
      await pg.query(`DROP DATABASE ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      done.push(`dropped database ${name}`);
    }
  } finally {
    await pg.end();
  }

  // Exact prefixes, so `offset100` never matches `offset1000`'s keys.
  const patterns = id
    ? [`${id}.*`, `${id}:*`]
    : [...services.map((s) => `${s.appId}||*`), 'quizmesh:evaluation:*', 'quizmesh:gateway:rl*'];
  // Loaded here: `npm start` never needs a Redis client, only a reset does (decision 0990).
  const { Redis } = await import('ioredis');
  const redis = new Redis(LOCAL.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let removed = 0;
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) removed += await redis.unlink(...keys);
      } while (cursor !== '0');
    }
    done.push(`removed ${removed} Redis keys (${patterns.join(' ')})`);
  } finally {
    redis.disconnect();
  }

  if (id) {
    await run('rabbitmqctl', ['-q', 'delete_vhost', id]).catch(() => undefined);
    done.push(`deleted RabbitMQ vhost ${id}`);
  } else {
    done.push("RabbitMQ: the default instance's queues live in vhost / and stay (delete them with rabbitmqctl)");
  }
  return done;
}
