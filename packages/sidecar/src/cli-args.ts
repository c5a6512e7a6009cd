/**
 * daprd's flags, parsed with node:util parseArgs. Go's flag package also accepts a single
 * dash (`-app-id x`) and `--flag=true|false` for booleans, so both forms are normalised first.
 */
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { isLogLevel } from './logger';
import { parseGoDuration } from './duration';
import type { SidecarOptions } from './sidecar';

const STRING_FLAGS = [
  'app-id',
  'app-port',
  'dapr-http-port',
  'resources-path',
  'components-path',
  'config',
  'app-protocol',
  'log-level',
  'app-channel-address',
  'app-health-check-path',
  'app-health-probe-interval',
  'app-health-probe-timeout',
  'app-health-threshold',
  'dapr-listen-addresses',
  'dapr-http-max-request-size',
] as const;
const BOOLEAN_FLAGS = ['enable-app-health-check', 'help'] as const;
/** daprd flags accepted for compatibility with `dapr run` style command lines, but without effect here. */
const IGNORED_FLAGS = [
  'dapr-grpc-port',
  'dapr-internal-grpc-port',
  'metrics-port',
  'enable-metrics',
  'placement-host-address',
  'scheduler-host-address',
  'profile-port',
  'enable-profiling',
  'log-as-json',
  'mode',
  'app-max-concurrency',
  'enable-api-logging',
  'dapr-graceful-shutdown-seconds',
] as const;

export const USAGE = `usage: quizmesh-sidecar --app-id <id> [--app-port <port>] [--dapr-http-port <port>]
         [--resources-path <dir>]... [--config <configuration.yaml>] [--app-protocol http]
         [--app-channel-address <host>] [--log-level debug|info|warn|error]
         [--enable-app-health-check] [--app-health-check-path /healthz]
         [--app-health-probe-interval <s>] [--app-health-probe-timeout <ms>] [--app-health-threshold <n>]
env: DAPR_API_TOKEN, APP_API_TOKEN, QUIZMESH_SIDECAR_REGISTRY, NAMESPACE`;

export interface ParsedSidecarArgs {
  help: boolean;
  options: SidecarOptions;
  /** flags accepted for compatibility but ignored */
  ignored: string[];
}

function port(value: string | undefined, flag: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag}: "${value}" is not a port number`);
  return n;
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag}: "${value}" must be a positive integer`);
  return n;
}

function normalise(argv: string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    let a = /^-[a-z]/.test(arg) && arg.length > 2 ? `-${arg}` : arg;
    const bool = /^--([a-z-]+)=(true|false)$/i.exec(a);
    if (bool?.[1] !== undefined && (BOOLEAN_FLAGS as readonly string[]).includes(bool[1])) {
      if (bool[2]?.toLowerCase() === 'false') continue;
      a = `--${bool[1]}`;
    }
    out.push(a);
  }
  return out;
}

export function parseSidecarArgs(argv: string[]): ParsedSidecarArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const f of STRING_FLAGS)
    options[f] = { type: 'string', multiple: f === 'resources-path' || f === 'components-path' };
  for (const f of BOOLEAN_FLAGS) options[f] = { type: 'boolean' };
  for (const f of IGNORED_FLAGS) options[f] = { type: 'string' };
  const { values } = parseArgs({ args: normalise(argv), options, strict: true, allowPositionals: false });
  const get = (flag: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : undefined;
  };
  const list = (flag: string): string[] => {
    const v = values[flag];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const help = values.help === true;
  const ignored = IGNORED_FLAGS.filter((f) => values[f] !== undefined).map((f) => `--${f}`);
  const appId = get('app-id');
  if (!help && (appId === undefined || appId === '')) throw new Error('--app-id is required');
  const protocol = get('app-protocol') ?? 'http';
  if (protocol !== 'http')
    throw new Error(`--app-protocol ${protocol} is not supported by the local sidecar (only http)`);
  const level = get('log-level') ?? 'info';
  if (!isLogLevel(level)) throw new Error(`--log-level: unknown level "${level}"`);
  const listen = get('dapr-listen-addresses')?.split(',')[0]?.trim();
  const result: SidecarOptions = {
    appId: appId ?? '',
    daprHttpPort: port(get('dapr-http-port'), 'dapr-http-port', 3500),
    resourcesPaths: [...list('resources-path'), ...list('components-path')],
    logLevel: level satisfies LevelWithSilent,
  };
  const appPort = port(get('app-port'), 'app-port', undefined);
  if (appPort !== undefined) result.appPort = appPort;
  const config = get('config');
  if (config !== undefined) result.configPath = config;
  const channel = get('app-channel-address');
  if (channel !== undefined) result.appChannelAddress = channel;
  if (listen !== undefined && listen !== '') result.listenAddress = listen.replace(/^\[(.*)\]$/, '$1');
  const maxSize = get('dapr-http-max-request-size');
  if (maxSize !== undefined)
    result.maxRequestBodyBytes = positiveInt(maxSize, 'dapr-http-max-request-size', 4) * 1024 * 1024;
  if (values['enable-app-health-check'] === true) {
    const interval = get('app-health-probe-interval');
    result.appHealthCheck = {
      path: get('app-health-check-path') ?? '/healthz',
      // daprd takes seconds for the interval and milliseconds for the timeout; Go durations are accepted too.
      intervalMs:
        interval !== undefined && /[a-z]$/i.test(interval)
          ? parseGoDuration(interval)
          : positiveInt(interval, 'app-health-probe-interval', 5) * 1000,
      timeoutMs: positiveInt(get('app-health-probe-timeout'), 'app-health-probe-timeout', 500),
      threshold: positiveInt(get('app-health-threshold'), 'app-health-threshold', 3),
    };
  }
  return { help, options: result, ignored };
}
