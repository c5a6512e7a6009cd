/**
 * `--replicas`: several instances of an app behind one app id, each with its own sidecar, on
 * real local backends. Calls through the gateway spread over the instances, keep succeeding
 * while one is SIGKILLed, reach it again once the supervisor has restarted it, and stop() ends
 * every instance.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Launcher, parseReplicas, startPlatform } from '../src';
import { isProcessAlive } from '@quizmesh/platform/process';

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('launcher --replicas', () => {
  it('spreads calls over two replicas, survives SIGKILL of one, and takes it back after its restart', async () => {
    const lines: string[] = [];
    const platform = await startPlatform({
      services: ['quiz'],
      backends: 'local',
      replicas: { quiz: 2 },
      serviceEnv: { gateway: { RATE_LIMIT_PER_IP: '1000000' } },
      out: (line) => lines.push(line),
    });
    const seen = new Set<number>(platform.pids);
    try {
      const instances = platform.instances('quiz');
      expect(instances.map((i) => i.replica)).toEqual([0, 1]);
      expect(platform.endpoints.quiz?.replicas).toHaveLength(2);
      expect(lines).toContainEqual(expect.stringMatching(/^ {2}✓ quiz-1 +http:\/\/127\.0\.0\.1:\d+ {2}sidecar :\d+/));
      // Each replica's sidecar has its own pod name ({podName} queues stay per instance) and its
      // own entry in the local name resolution.
      const entries = readdirSync(join(platform.stateDir, 'sidecars')).filter((f) => f.startsWith('quiz'));
      expect(entries.sort()).toEqual(['quiz.json', 'quiz@quiz-1.json']);
      const second = JSON.parse(readFileSync(join(platform.stateDir, 'sidecars', 'quiz@quiz-1.json'), 'utf8')) as {
        appId: string;
        instance: string;
      };
      expect(second).toMatchObject({ appId: 'quiz', instance: 'quiz-1' });

      /** which replica's log shows the request with this id */
      const servedBy = (requestId: string): number[] =>
        [0, 1].filter((replica) =>
          readFileSync(join(platform.stateDir, 'logs', replica === 0 ? 'quiz.log' : 'quiz-1.log'), 'utf8').includes(
            `"reqId":"${requestId}"`,
          ),
        );
      const list = async (requestId: string): Promise<number> =>
        (await fetch(`${platform.gatewayUrl}/api/v1/quizzes`, { headers: { 'x-request-id': requestId } })).status;

      for (let i = 0; i < 10; i += 1) expect(await list(`spread-${i}`)).toBe(200);
      // Log lines reach the files a moment after the answer.
      const served = await eventually(
        'every request in one replica log',
        async () => {
          const found = Array.from({ length: 10 }, (_, i) => servedBy(`spread-${i}`));
          return found.every((s) => s.length === 1) ? found : undefined;
        },
        5_000,
      );
      expect(served.filter((s) => s[0] === 0).length).toBe(5);
      expect(served.filter((s) => s[0] === 1).length).toBe(5);

      // SIGKILL replica 1's app: every call meanwhile still succeeds (on replica 0).
      const killed = instances[1]?.appPid ?? -1;
      process.kill(killed, 'SIGKILL');
      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1) statuses.push(await list(`outage-${i}`));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      // The supervisor restarts it; calls reach it again.
      const restarted = await eventually(
        'replica 1 restarted',
        async () => {
          const pid = platform.instances('quiz')[1]?.appPid;
          if (pid === undefined || pid === killed) return undefined;
          const ready = await fetch(`${instances[1]?.appUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
          return ready.status === 200 ? pid : undefined;
        },
        30_000,
      );
      seen.add(restarted);
      expect(lines).toContain('quiz-1 exited (SIGKILL); restarting in 1 s');
      let n = 0;
      await eventually(
        'replica 1 serves again',
        async () => {
          const id = `rejoin-${(n += 1)}`;
          expect(await list(id)).toBe(200);
          await new Promise((r) => setTimeout(r, 200));
          return servedBy(id).includes(1) ? true : undefined;
        },
        15_000,
      );
      for (const i of platform.instances('quiz')) {
        if (i.appPid) seen.add(i.appPid);
        if (i.sidecarPid) seen.add(i.sidecarPid);
      }
    } finally {
      await platform.stop();
    }
    // Ctrl-C (stop) ends every instance, the restarted one included.
    expect([...seen].filter(isProcessAlive)).toEqual([]);
  }, 180_000);

  it('refuses replicas it cannot honour, naming the option', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'quizmesh-replicas-'));
    const launcher = (backends: 'embedded' | 'local', replicas: Record<string, number>) =>
      new Launcher({
        repoRoot: resolve(__dirname, '../../..'),
        backends,
        portOffset: 'dynamic',
        stateDir,
        readyTimeoutMs: 10_000,
        only: ['quiz'],
        replicas,
        out: () => undefined,
      });
    try {
      await expect(launcher('embedded', { quiz: 2 }).start()).rejects.toThrow(/--replicas needs --backends=local/);
      await expect(launcher('local', { gateway: 2 }).start()).rejects.toThrow(/the gateway .* runs once/);
      await expect(launcher('local', { quiz: 11 }).start()).rejects.toThrow(
        /--replicas quiz=11: use a whole number 1\.\.10/,
      );
      await expect(launcher('local', { identity: 2 }).start()).rejects.toThrow(/names identity, which is not started/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
    expect(parseReplicas('quiz=2, evaluation=3')).toEqual({ quiz: 2, evaluation: 3 });
    expect(parseReplicas('quiz')).toBeUndefined();
    expect(parseReplicas('quiz=two')).toBeUndefined();
  });
});
