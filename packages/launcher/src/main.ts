/**
 * npm start [-- --backends=embedded|local] [--port-offset=N] [--only=identity,quiz] [--replicas=quiz=2,evaluation=2]
 *           [--state-dir=.quizmesh] [--quizzes=DIR]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Launcher, LaunchError, MAX_REPLICAS, parseReplicas, type Backends } from './launcher';

const USAGE = `usage: npm start -- [--backends=embedded|local] [--port-offset=N] [--only=svc,svc] [--replicas=svc=N,…]
                    [--state-dir=DIR]
  --backends=embedded  (default) PGlite per service, in-memory state and pub/sub: no external servers
  --backends=local     PostgreSQL, Redis and RabbitMQ on 127.0.0.1 (components/local)
  --port-offset=N      add N to every port, to run beside another copy
  --only=a,b           start only these services (plus the gateway)
  --replicas=quiz=2    run N instances of a service (1..${MAX_REPLICAS}, not the gateway), each with its own
                       sidecar, behind one app id; needs --backends=local
  --quizzes=DIR        the folder of Quiz YAML the operator reconciles (default services/operator/examples)`;

async function main() {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'embedded' },
      'port-offset': { type: 'string', default: '0' },
      only: { type: 'string' },
      replicas: { type: 'string' },
      'state-dir': { type: 'string' },
      'ready-timeout': { type: 'string', default: '120' },
      quizzes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
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
  const replicas = values.replicas === undefined ? undefined : parseReplicas(values.replicas);
  if (values.replicas !== undefined && !replicas) {
    console.error(`--replicas must look like quiz=2,evaluation=2, got "${values.replicas}"\n${USAGE}`);
    process.exit(2);
  }
  const repoRoot = resolve(__dirname, '../../..');
  const launcher = new Launcher({
    repoRoot,
    backends: values.backends as Backends,
    portOffset,
    stateDir: resolve(values['state-dir'] ?? resolve(repoRoot, '.quizmesh')),
    readyTimeoutMs: readySeconds * 1000,
    ...(values.only ? { only: values.only.split(',') } : {}),
    ...(replicas ? { replicas } : {}),
    ...(values.quizzes ? { serviceEnv: { operator: { QUIZ_DIR: resolve(values.quizzes) } } } : {}),
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
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    await launcher.start();
  } catch (err) {
    if (err instanceof LaunchError) {
      console.error(`\n✗ ${err.message}`);
    } else {
      console.error(`\n✗ launcher failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    await stop(1);
  }
}

void main();
