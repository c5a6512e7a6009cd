/**
 * For integration tests: start a subset of the platform (services + sidecars + databases)
 * on free ports, exactly as `npm start` does, and stop it afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { backendUrls, createTestVhost, type TestVhost } from '@quizmesh/platform/testing';
import { Launcher, type Backends, type DaprResourceSet, type InstanceInfo, type RestartPolicy } from './launcher';

export { Launcher, LaunchError, parseReplicas } from './launcher';
export type { Backends, DaprResourceSet, InstanceInfo, LaunchOptions, RestartPolicy, RunIsolation } from './launcher';
export { ensureLocalSecrets, rotateSigningKeys, JWT_SIGNING_KEYS } from './secrets';
export { ensureWebAppBuilt, webAppIsStale } from './web-app';

export interface StartedPlatform {
  gatewayUrl: string;
  /** per app id: app URL, sidecar HTTP port, database URL */
  endpoints: Launcher['endpoints'];
  stateDir: string;
  /** pids of the child processes (apps, sidecars, databases) */
  pids: number[];
  /**
   * backends 'local': the run's namespace on the shared servers (databases
   * `quizmesh_<service>_<runId>`, RabbitMQ vhost `runId`, Redis keys `<runId>*`), all removed by stop()
   */
  runId: string | undefined;
  /**
   * stops one service's app (SIGTERM, or SIGKILL as a crash) and then its sidecar, every
   * replica or just `replica`; see Launcher.stopService
   */
  stopService(name: string, options?: { signal?: 'SIGTERM' | 'SIGKILL'; replica?: number }): Promise<void>;
  /** starts it (or one replica) again on the same ports and waits until it is ready */
  startService(name: string, options?: { replica?: number }): Promise<void>;
  /** each instance of a service now: ports and the pids of its app and sidecar (to kill one from outside) */
  instances(name: string): InstanceInfo[];
  stop(): Promise<void>;
}

export async function startPlatform(options: {
  services: string[];
  backends?: Backends;
  readyTimeoutMs?: number;
  /** keep the state dir (logs) after stop, for debugging */
  keepState?: boolean;
  serviceEnv?: Record<string, Record<string, string>>;
  /** restart back-off for processes that exit on their own, or false to leave them down (see Launcher) */
  restart?: Partial<RestartPolicy> | false;
  /** instances per service name (see LaunchOptions.replicas; local backends only) */
  replicas?: Record<string, number>;
  /** every line the launcher prints (restarts, giving up), as they come */
  out?: (line: string) => void;
  /**
   * Local backends only: the Dapr resources every sidecar loads instead of components/, made for
   * this run (its Dapr namespace, RabbitMQ vhost URL and a folder inside its state dir).
   */
  daprResources?: (run: { namespace: string; rabbitmqUrl: string; dir: string }) => Promise<DaprResourceSet>;
}): Promise<StartedPlatform> {
  const stateDir = mkdtempSync(join(tmpdir(), 'quizmesh-test-'));
  const backends = options.backends ?? 'embedded';
  const lines: string[] = [];
  // Real backends are shared with the developer and other runs: this run gets its own namespaces.
  let vhost: TestVhost | undefined;
  if (backends === 'local') vhost = await createTestVhost('qm_run');
  const runId = vhost?.name;
  if (options.daprResources && !vhost) throw new Error('daprResources needs backends: local');
  let daprResources: DaprResourceSet | undefined;
  try {
    if (options.daprResources && vhost)
      daprResources = await options.daprResources({ namespace: vhost.name, rabbitmqUrl: vhost.url, dir: stateDir });
  } catch (err) {
    await vhost?.drop();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const launcher = new Launcher({
    repoRoot: resolve(__dirname, '../../..'),
    backends,
    portOffset: 'dynamic',
    stateDir,
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
    only: options.services,
    ...(options.serviceEnv ? { serviceEnv: options.serviceEnv } : {}),
    ...(vhost ? { isolation: { runId: vhost.name, rabbitmqUrl: vhost.url } } : {}),
    ...(daprResources ? { daprResources } : {}),
    ...(options.restart !== undefined ? { restart: options.restart } : {}),
    ...(options.replicas ? { replicas: options.replicas } : {}),
    out: (line) => {
      lines.push(line);
      options.out?.(line);
    },
  });
  const stop = async () => {
    await launcher.stop();
    if (runId !== undefined) {
      await launcher.dropDatabases();
      await vhost?.drop();
      await deleteRedisKeys(`${runId}*`);
    }
    if (!options.keepState) rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const { gatewayUrl } = await launcher.start();
    return {
      gatewayUrl,
      endpoints: launcher.endpoints,
      stateDir,
      pids: launcher.pids(),
      runId,
      stopService: (name, stopOptions) => launcher.stopService(name, stopOptions),
      startService: (name, startOptions) => launcher.startService(name, startOptions),
      instances: (name) => launcher.instances(name),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** SCAN + UNLINK (never KEYS): the run's keys only. */
async function deleteRedisKeys(pattern: string): Promise<void> {
  // Loaded here: `npm start` on embedded backends never needs a Redis client (decision 0990).
  const { Redis } = await import('ioredis');
  const redis = new Redis(backendUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
