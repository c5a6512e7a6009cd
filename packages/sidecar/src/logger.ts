import pino, { type Logger, type LevelWithSilent } from 'pino';

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLogLevel(value: string): value is LevelWithSilent {
  return LEVELS.includes(value);
}

/** JSON logs on stdout, tagged with the app id like daprd's `app_id` field. */
export function createLogger(appId: string, level: LevelWithSilent): Logger {
  return pino({ level, base: { app_id: appId, service: 'quizmesh-sidecar' } });
}
