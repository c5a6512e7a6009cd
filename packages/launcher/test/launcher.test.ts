import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Launcher, LaunchError, startPlatform } from '../src';
import { isProcessAlive } from '@quizmesh/platform/process';

describe('launcher', () => {
  it('starts the gateway with its sidecar, reports status, and leaves nothing behind', async () => {
    const platform = await startPlatform({ services: [] });
    try {
      const res = await fetch(`${platform.gatewayUrl}/api/v1/status`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { gateway: { status: string }; services: unknown[] };
      expect(body.gateway.status).toBe('ready');
      expect(body.services).toEqual([]);
      // The sidecar runs as its own process and answers the Dapr metadata API for the gateway.
      // Only with the run's Dapr API token: nothing else on the machine may use the gateway's sidecar.
      const sidecarPort = platform.endpoints.gateway?.sidecarPort;
      const token = platform.endpoints.gateway?.daprApiToken ?? '';
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect((await fetch(`http://127.0.0.1:${String(sidecarPort)}/v1.0/metadata`)).status).toBe(401);
      const meta = await fetch(`http://127.0.0.1:${String(sidecarPort)}/v1.0/metadata`, {
        headers: { 'dapr-api-token': token },
      });
      expect(((await meta.json()) as { id: string }).id).toBe('gateway');
      // Apps and sidecars listen on loopback only.
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i?.family === 'IPv4' && !i.internal)?.address;
      if (external !== undefined) {
        for (const port of [new URL(platform.gatewayUrl).port, String(sidecarPort)])
          await expect(fetch(`http://${external}:${port}/healthz`)).rejects.toThrow();
      }
      // gateway app + its sidecar
      expect(platform.pids.filter(isProcessAlive)).toHaveLength(2);
    } finally {
      await platform.stop();
    }
    expect(platform.pids.filter(isProcessAlive)).toEqual([]);
  });

  it('names the service that failed to start and shows its last log lines', async () => {
    let error: unknown;
    try {
      await startPlatform({
        services: [],
        serviceEnv: { gateway: { UPSTREAM_APP_IDS: 'Not Valid!' } },
        readyTimeoutMs: 30_000,
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LaunchError);
    const launchError = error as LaunchError;
    expect(launchError.component).toBe('gateway');
    expect(launchError.message).toMatch(/^gateway failed to start: exited with code 1/);
    expect(launchError.lastLines.join('\n')).toContain('UPSTREAM_APP_IDS: expected comma-separated app ids');
  });

  it('reaps the children of a previous launcher that was SIGKILLed', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'quizmesh-reap-'));
    // A child as the launcher starts them (parent-watch.cjs on its command line, not watching) …
    const parentWatch = join(__dirname, '..', 'parent-watch.cjs');
    const orphan = spawn(process.execPath, ['--require', parentWatch, '-e', 'setTimeout(() => {}, 120_000)'], {
      detached: true,
      stdio: 'ignore',
    });
    // … and a stranger that got a pid from the file (after a reboot): left alone.
    const stranger = spawn('sleep', ['120'], { detached: true, stdio: 'ignore' });
    stranger.unref();
    orphan.unref();
    const orphanPid = orphan.pid ?? -1;
    // A launcher pid that no longer exists, with one child still running.
    writeFileSync(
      join(stateDir, 'launcher.pids.json'),
      JSON.stringify({ launcher: 2 ** 22 + 1, pids: [orphanPid, stranger.pid ?? -1] }),
    );
    const launcher = new Launcher({
      repoRoot: join(__dirname, '..', '..', '..'),
      backends: 'embedded',
      portOffset: 'dynamic',
      stateDir,
      readyTimeoutMs: 90_000,
      only: [],
      out: () => undefined,
    });
    try {
      await launcher.start();
      await new Promise((r) => setTimeout(r, 100));
      expect(() => process.kill(orphanPid, 0)).toThrow();
      expect(isProcessAlive(stranger.pid ?? -1)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
      await launcher.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses a second launcher on the same state dir and leaves the running one alone', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'quizmesh-twice-'));
    const launcherOn = () =>
      new Launcher({
        repoRoot: join(__dirname, '..', '..', '..'),
        backends: 'embedded',
        portOffset: 'dynamic',
        stateDir,
        readyTimeoutMs: 90_000,
        only: [],
        out: () => undefined,
      });
    const first = launcherOn();
    const second = launcherOn();
    try {
      await first.start();
      const running = first.pids();
      // The second launcher is another process in real life; here it only differs by pid file owner.
      writeFileSync(join(stateDir, 'launcher.pids.json'), JSON.stringify({ launcher: process.ppid, pids: running }));
      await expect(second.start()).rejects.toThrow(/another Quizmesh \(pid \d+\) is running from .*--state-dir/);
      await second.stop();
      expect(running.filter(isProcessAlive)).toEqual(running);
      expect(JSON.parse(readFileSync(join(stateDir, 'launcher.pids.json'), 'utf8'))).toEqual({
        launcher: process.ppid,
        pids: running,
      });
    } finally {
      await first.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
