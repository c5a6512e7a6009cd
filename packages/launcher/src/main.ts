/**
 * npm start [-- --backends=embedded|local] [--port-offset=N] [--instance=NAME] [--only=identity,quiz]
 *           [--replicas=quiz=2,evaluation=2] [--state-dir=.quizmesh] [--quizzes=DIR] [--telemetry[=URL]]
 * npm run reset [-- --backends=embedded|local] [--port-offset=N] [--instance=NAME]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureLocalIsolation, INSTANCE_NAME, instanceId, instanceStateDir, resetInstance } from './instance';
import { Launcher, LaunchError, MAX_REPLICAS, parseReplicas, type Backends } from './launcher';
import { ensureWebAppBuilt } from './web-app';
import { discoverServices } from './services';
import {
  describeTelemetry,
  LAPTOP_METRIC_EXPORT_INTERVAL_MS,
  normaliseTelemetryArgs,
  parseOtlpEndpoint,
} from './telemetry';

const USAGE = `usage: npm start -- [--backends=embedded|local] [--port-offset=N] [--instance=NAME] [--only=svc,svc]
                    [--replicas=svc=N,…] [--state-dir=DIR] [--telemetry[=URL]]
       npm run reset -- [--backends=embedded|local] [--port-offset=N] [--instance=NAME]
  --backends=embedded  (default) one embedded PostgreSQL cluster (a database per service), state kept
                       in files, in-memory pub/sub: no external servers
  --backends=local     PostgreSQL, Redis and RabbitMQ on 127.0.0.1 (components/local)
  --port-offset=N      add N to every port, to run beside another copy; a non-zero offset is an
                       instance of its own (offset<N>) unless --instance names one
  --instance=NAME      a-z 0-9 _: its own state dir (.quizmesh/instances/NAME) and, with
                       --backends=local, databases quizmesh_<service>_NAME, vhost NAME, keys NAME.* NAME:*
  --reset              (npm run reset) remove the instance's data: its embedded PostgreSQL data and,
                       with --backends=local, its databases, Redis keys and vhost
  --only=a,b           start only these services (plus the gateway)
  --replicas=quiz=2    run N instances of a service (1..${MAX_REPLICAS}, not the gateway), each with its own
                       sidecar, behind one app id; needs --backends=local
  --quizzes=DIR        the folder of Quiz YAML the operator reconciles (default services/operator/examples)
  --telemetry[=URL]    every app sends traces and metrics over OTLP/HTTP to URL (default
                       http://127.0.0.1:4318, e.g. a Jaeger all-in-one); docs/observability.md`;

async function main() {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'embedded' },
      'port-offset': { type: 'string', default: '0' },
      only: { type: 'string' },
      replicas: { type: 'string' },
      'state-dir': { type: 'string' },
      instance: { type: 'string' },
      reset: { type: 'boolean', default: false },
      'ready-timeout': { type: 'string', default: '120' },
      quizzes: { type: 'string' },
      telemetry: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    args: normaliseTelemetryArgs(process.argv.slice(2)),
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.backends !== 'embedded' && values.backends !== 'local') {
    console.error(`--backends must be "embedded" or "local", got "${values.backends}"\n${USAGE}`);
    process.exit(2);
  }
  const portOffset = Number(values['port-offset']);
  const readySeconds = Number(values['ready-timeout']);
  if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 20_000 || !(readySeconds > 0)) {
    console.error(`--port-offset must be an integer 0..20000 and --ready-timeout a positive number\n${USAGE}`);
    process.exit(2);
  }
  if (values.instance !== undefined && !INSTANCE_NAME.test(values.instance)) {
    console.error(`--instance must be 1-30 of a-z 0-9 _ starting with a letter, got "${values.instance}"\n${USAGE}`);
    process.exit(2);
  }
  const replicas = values.replicas === undefined ? undefined : parseReplicas(values.replicas);
  if (values.replicas !== undefined && !replicas) {
    console.error(`--replicas must look like quiz=2,evaluation=2, got "${values.replicas}"\n${USAGE}`);
    process.exit(2);
  }
  const otlpEndpoint = values.telemetry === undefined ? undefined : parseOtlpEndpoint(values.telemetry);
  if (values.telemetry !== undefined && !otlpEndpoint) {
    console.error(`--telemetry must be an http(s) URL, got "${values.telemetry}"\n${USAGE}`);
    process.exit(2);
  }
  const repoRoot = resolve(__dirname, '../../..');
  const backends = values.backends as Backends;
  const id = instanceId({ instance: values.instance, portOffset });
  const stateDir = resolve(values['state-dir'] ?? instanceStateDir(resolve(repoRoot, '.quizmesh'), id));
  if (values.reset) {
    const lines = await resetInstance({
      id,
      stateDir,
      services: discoverServices(repoRoot),
      local: backends === 'local',
    });
    console.log(`Reset instance ${id ?? 'default'}${lines.length ? '' : ': nothing to remove'}`);
    for (const line of lines) console.log(`  ${line}`);
    return;
  }
  const launcher = new Launcher({
    repoRoot,
    backends,
    portOffset,
    stateDir,
    readyTimeoutMs: readySeconds * 1000,
    ...(values.only ? { only: values.only.split(',') } : {}),
    ...(replicas ? { replicas } : {}),
    ...(values.quizzes ? { serviceEnv: { operator: { QUIZ_DIR: resolve(values.quizzes) } } } : {}),
    ...(otlpEndpoint
      ? { telemetry: { endpoint: otlpEndpoint, metricExportIntervalMs: LAPTOP_METRIC_EXPORT_INTERVAL_MS } }
      : {}),
    ...(backends === 'local' && id ? { isolation: await ensureLocalIsolation(id) } : {}),
    out: (line) => console.log(line),
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping Quizmesh…');
    await launcher.stop();
    console.log('Stopped.');
    process.exit(code);
  };
  // Ctrl-C, `kill`, and a closed terminal (SIGHUP) all stop the whole tree. If this process dies
  // anyway (SIGKILL), every child notices and stops itself (parent-watch.cjs).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
  // A closed terminal makes writes fail (EIO/EPIPE): that must not kill us halfway through stopping.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

  try {
    // The gateway (always started) serves the app at /.
    ensureWebAppBuilt(repoRoot, (line) => console.log(line));
    // Probed while the platform starts: no start time is spent on it.
    const telemetryLines = otlpEndpoint ? describeTelemetry(otlpEndpoint) : Promise.resolve([]);
    await launcher.start();
    for (const line of await telemetryLines) console.log(line);
  } catch (err) {
    if (err instanceof LaunchError) {
      console.error(`\n✗ ${err.message}`);
    } else {
      console.error(`\n✗ launcher failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    await stop(1);
  }
}

main().catch((err: unknown) => {
  console.error(`\n✗ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
