/**
 * `npm start -- --backends=local --port-offset=N`: each offset is an instance with its own
 * databases, vhost and Redis keys on the shared servers, and `npm run reset` removes one
 * instance's data only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { backendUrls } from '@quizmesh/platform/testing';
import { ensureLocalIsolation, instanceId, resetInstance } from '../src/instance';
import { Launcher } from '../src';
import { discoverServices } from '../src/services';

const run = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..', '..');

async function databasesNamed(names: string[]): Promise<string[]> {
  const client = new Client({ connectionString: backendUrls.postgresAdmin });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname = any($1) order by datname',
      [names],
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

async function vhosts(): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_vhosts', 'name']);
  return stdout.split('\n').map((l) => l.trim());
}

const register = (gatewayUrl: string, email: string) =>
  fetch(`${gatewayUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, displayName: 'Instance', password: 'correct horse battery staple' }),
  });

describe('local instances by port offset', () => {
  it('keeps two offsets apart and resets one of them only', async () => {
    const base = 4_000 + 100 * Math.floor(Math.random() * 100);
    const ids = [instanceId({ portOffset: base }), instanceId({ portOffset: base + 100 })] as [string, string];
    expect(ids).toEqual([`offset${base}`, `offset${base + 100}`]);
    const services = discoverServices(repoRoot);
    const stateDirs = ids.map(() => mkdtempSync(join(tmpdir(), 'quizmesh-instance-')));
    const launchers: Launcher[] = [];
    const redis = new Redis(backendUrls.redis);
    try {
      for (const [index, id] of ids.entries()) {
        launchers.push(
          new Launcher({
            repoRoot,
            backends: 'local',
            portOffset: 'dynamic',
            stateDir: stateDirs[index] as string,
            readyTimeoutMs: 90_000,
            only: ['identity'],
            isolation: await ensureLocalIsolation(id),
            out: () => undefined,
          }),
        );
      }
      const [first, second] = (await Promise.all(launchers.map((l) => l.start()))).map((r) => r.gatewayUrl) as [
        string,
        string,
      ];
      const email = `same-${base}@example.com`;
      expect((await register(first, email)).status).toBe(201);
      // The second instance has its own identity database: the address is free there …
      expect((await register(second, email)).status).toBe(201);
      // … and taken in the first.
      expect((await register(first, email)).status).toBe(409);

      expect(await databasesNamed(ids.map((id) => `quizmesh_identity_${id}`))).toEqual(
        ids.map((id) => `quizmesh_identity_${id}`).sort(),
      );
      // Keys as the apps write them (state store `<id>.<app>||key`, direct users `<id>:…`), and one
      // of an instance whose id starts with the first's: reset must not take it.
      const neighbour = `${ids[0]}0`;
      await redis.mset(`${ids[0]}.identity||k`, '1', `${ids[0]}:gateway:rl:x`, '1');
      await redis.mset(`${ids[1]}.identity||k`, '1', `${ids[1]}:gateway:rl:x`, '1', `${neighbour}:x`, '1');

      await launchers[0]?.stop();
      await expect(
        resetInstance({ id: ids[0], stateDir: stateDirs[0] as string, services, local: true }),
      ).resolves.toContain(`dropped database quizmesh_identity_${ids[0]}`);

      expect(await databasesNamed(ids.map((id) => `quizmesh_identity_${id}`))).toEqual([`quizmesh_identity_${ids[1]}`]);
      const vhostNames = await vhosts();
      expect(vhostNames).not.toContain(ids[0]);
      expect(vhostNames).toContain(ids[1]);
      expect(await redis.exists(`${ids[0]}.identity||k`, `${ids[0]}:gateway:rl:x`)).toBe(0);
      expect(await redis.exists(`${ids[1]}.identity||k`, `${ids[1]}:gateway:rl:x`, `${neighbour}:x`)).toBe(3);
      // The second instance runs on, with its data.
      expect((await register(second, email)).status).toBe(409);
    } finally {
      await Promise.all(launchers.map((l) => l.stop()));
      for (const [index, id] of ids.entries())
        await resetInstance({ id, stateDir: stateDirs[index] as string, services, local: true });
      await redis.del(`${ids[0]}0:x`);
      redis.disconnect();
      for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
