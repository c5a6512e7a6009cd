/**
 * startPlatform on the real local backends: the run gets its own databases, RabbitMQ vhost and
 * Redis keys (a developer's `quizmesh_<service>` databases are never touched) and removes them
 * on stop; one service can be stopped and started again while the rest keeps running.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { backendUrls } from '@quizmesh/platform/testing';
import { startPlatform, type StartedPlatform } from '../src';
import { isProcessAlive } from '@quizmesh/platform/process';

const run = promisify(execFile);

async function databasesNamed(pattern: string): Promise<string[]> {
  const client = new Client({ connectionString: backendUrls.postgresAdmin });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      pattern,
    ]);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

async function vhosts(): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_vhosts', 'name']);
  return stdout.split('\n').map((l) => l.trim());
}

async function redisKeys(pattern: string): Promise<string[]> {
  const redis = new Redis(backendUrls.redis);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

const register = (platform: StartedPlatform, email: string) =>
  fetch(`${platform.gatewayUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, displayName: 'Isolated', password: 'correct horse battery staple' }),
  });

describe('startPlatform on local backends', () => {
  it('isolates the run, restarts one service, and removes its databases, vhost and keys on stop', async () => {
    const platform = await startPlatform({ services: ['identity'], backends: 'local' });
    const runId = platform.runId ?? '';
    try {
      expect(runId).toMatch(/^qm_run_[a-z0-9_]+$/);
      expect(await databasesNamed(`quizmesh_%_${runId}`)).toEqual([`quizmesh_identity_${runId}`]);
      expect(platform.endpoints.identity?.databaseUrl).toMatch(new RegExp(`/quizmesh_identity_${runId}$`));
      expect(await vhosts()).toContain(runId);
      expect((await register(platform, 'before@example.com')).status).toBe(201);

      const before = platform.pids.filter(isProcessAlive);
      await platform.stopService('identity', { signal: 'SIGKILL' });
      // identity's app and sidecar are gone, the gateway and its sidecar are not.
      expect(platform.pids.filter(isProcessAlive)).toHaveLength(before.length - 2);
      expect((await register(platform, 'while-down@example.com')).status).toBe(503);

      await platform.startService('identity');
      expect((await register(platform, 'after@example.com')).status).toBe(201);
      // the same database: the account made before the restart is still taken
      expect((await register(platform, 'before@example.com')).status).toBe(409);
      // the gateway's rate-limit counters live under the run's prefix
      expect((await redisKeys(`${runId}*`)).length).toBeGreaterThan(0);
    } finally {
      await platform.stop();
    }
    expect(await databasesNamed(`quizmesh_%_${runId}`)).toEqual([]);
    expect(await vhosts()).not.toContain(runId);
    expect(await redisKeys(`${runId}*`)).toEqual([]);
  }, 180_000);
});
