/**
 * The launcher supervises like a kubelet: an app or sidecar that exits on its own is restarted
 * on the same ports with the same tokens, with back-off and a line; too many crashes in a short
 * window and it gives up loudly; restarted processes are still stopped by stop().
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, missing } from '@quizmesh/platform/testing';
import { startPlatform, type StartedPlatform } from '../src';
import { isProcessAlive } from '@quizmesh/platform/process';

const run = promisify(execFile);

/** The pid listening on a loopback port, or undefined. */
async function listener(port: number): Promise<number | undefined> {
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`]);
  const pid = /pid=(\d+)/.exec(stdout)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** Waits until `check` answers something other than undefined (a failed check counts as not yet). */
function eventuallyDefined<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return eventually(
    what,
    async () => {
      const value = await check();
      if (value === undefined) throw missing('not yet');
      return value;
    },
    { timeoutMs },
  );
}

const pidFile = (platform: StartedPlatform) =>
  (JSON.parse(readFileSync(join(platform.stateDir, 'launcher.pids.json'), 'utf8')) as { pids: number[] }).pids;

async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) })).status;
}

describe('launcher supervision', () => {
  it('restarts an app after SIGKILL and after SIGTERM from outside, and its sidecar on the same port', async () => {
    const lines: string[] = [];
    const platform = await startPlatform({ services: [], out: (line) => lines.push(line) });
    const seen = new Set<number>(platform.pids);
    try {
      const appPort = Number(new URL(platform.gatewayUrl).port);
      const { sidecarPort, daprApiToken } = platform.endpoints.gateway ?? { sidecarPort: 0, daprApiToken: '' };

      // SIGKILL: back and ready within a few seconds, on the same port, with a line saying so.
      const first = (await listener(appPort)) ?? -1;
      process.kill(first, 'SIGKILL');
      const started = Date.now();
      const second = await eventuallyDefined(
        'gateway back after SIGKILL',
        async () => {
          const pid = await listener(appPort);
          return pid !== undefined && pid !== first && (await readyz(platform.gatewayUrl)) === 200 ? pid : undefined;
        },
        15_000,
      );
      const backAfterMs = Date.now() - started;
      seen.add(second);
      expect(lines).toContain('gateway exited (SIGKILL); restarting in 1 s');
      expect(backAfterMs).toBeLessThan(10_000);
      // The pid file names the new process, not the dead one.
      expect(pidFile(platform)).toContain(second);
      expect(pidFile(platform)).not.toContain(first);

      // SIGTERM from outside: the app drains and exits 0, and is restarted all the same (second
      // exit within the window: twice the delay).
      process.kill(second, 'SIGTERM');
      const third = await eventuallyDefined(
        'gateway back after SIGTERM',
        async () => {
          const pid = await listener(appPort);
          return pid !== undefined && pid !== second && (await readyz(platform.gatewayUrl)) === 200 ? pid : undefined;
        },
        15_000,
      );
      seen.add(third);
      expect(lines).toContainEqual(expect.stringMatching(/^gateway exited \((SIGTERM|code 0)\); restarting in 2 s$/));

      // The sidecar: back on the same port, answering the same token.
      const sidecar = (await listener(sidecarPort)) ?? -1;
      process.kill(sidecar, 'SIGKILL');
      const newSidecar = await eventuallyDefined(
        'sidecar back',
        async () => {
          const pid = await listener(sidecarPort);
          if (pid === undefined || pid === sidecar) return undefined;
          const meta = await fetch(`http://127.0.0.1:${sidecarPort}/v1.0/metadata`, {
            headers: { 'dapr-api-token': daprApiToken },
          });
          return meta.status === 200 ? pid : undefined;
        },
        15_000,
      );
      seen.add(newSidecar);
      expect(lines).toContain('gateway-sidecar exited (SIGKILL); restarting in 1 s');
      expect(pidFile(platform).sort()).toEqual([third, newSidecar].sort());
    } finally {
      await platform.stop();
    }
    // Every process of the run, restarted ones included, is gone.
    expect([...seen].filter(isProcessAlive)).toEqual([]);
  }, 120_000);

  it('gives up on an app that crashes at once repeatedly, with a line naming it and its log', async () => {
    const lines: string[] = [];
    const platform = await startPlatform({
      services: [],
      restart: { firstDelayMs: 200, maxCrashes: 3, windowMs: 60_000 },
      out: (line) => lines.push(line),
    });
    let blocker: Server | undefined;
    try {
      const appPort = Number(new URL(platform.gatewayUrl).port);
      const app = (await listener(appPort)) ?? -1;
      process.kill(app, 'SIGKILL');
      // Take its port as soon as it is free: every restart now fails to listen and exits at once.
      blocker = await eventuallyDefined(
        'port taken',
        () =>
          new Promise<Server | undefined>((resolve) => {
            // Connections (the sidecar's health probes) are dropped, so close() does not wait on them.
            const server = createServer((socket) => socket.destroy());
            server.once('error', () => resolve(undefined));
            server.listen({ port: appPort, host: '127.0.0.1', exclusive: true }, () => resolve(server));
          }),
        5_000,
      );
      const givenUp = await eventuallyDefined(
        'give-up line',
        async () => lines.find((l) => l.includes('giving up')),
        60_000,
      );
      expect(givenUp).toMatch(
        /^✗ gateway exited \(code 1\), 3 times within 60 s; giving up, it stays down \(log: .*logs\/gateway\.log\)$/,
      );
      expect(lines.filter((l) => l.startsWith('gateway exited'))).toEqual([
        'gateway exited (SIGKILL); restarting in 0.2 s',
        'gateway exited (code 1); restarting in 0.4 s',
      ]);
      // It does not loop: nothing more is started, and the pid file holds only the sidecar.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(lines.filter((l) => l.includes('gateway exited'))).toHaveLength(3);
      expect(pidFile(platform)).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
      await platform.stop();
    }
  }, 120_000);

  it('does not restart a service stopped on purpose (stopService)', async () => {
    const lines: string[] = [];
    const platform = await startPlatform({ services: ['identity'], out: (line) => lines.push(line) });
    try {
      const appPort = Number(new URL(platform.endpoints.identity?.appUrl ?? '').port);
      await platform.stopService('identity', { signal: 'SIGKILL' });
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await listener(appPort)).toBeUndefined();
      expect(lines.filter((l) => l.includes('exited'))).toEqual([]);
      await platform.startService('identity');
      expect(await readyz(platform.endpoints.identity?.appUrl ?? '')).toBe(200);
    } finally {
      await platform.stop();
    }
  }, 180_000);
});
