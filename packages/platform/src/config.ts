/**
 * Typed configuration, validated once at start. A bad or missing value stops the process
 * with one line naming the variable (`loadConfigOrExit`); tests use `loadConfig`, which throws.
 */
import { z } from 'zod';
import { PUBSUB_NAME } from '@quizmesh/contracts/events';

export class ConfigError extends Error {
  constructor(readonly issues: Array<{ variable: string; message: string }>) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The variables several services read, validated one way wherever they appear. Each is a
 * function so a service can document its own use with a comment at the key.
 */
const daprComponentName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'expected a Dapr component name (lower-case letters, digits, . and -)');
/** a Dapr component name (pub/sub, state store, binding), defaulting to `fallback` */
export const componentNameConfig = (fallback: string) => daprComponentName.default(fallback);
/** PUBSUB_NAME: the pub/sub component the system's events go through */
export const pubsubNameConfig = () => componentNameConfig(PUBSUB_NAME);
/** STATE_STORE_NAME: the service's Dapr state store */
export const stateStoreNameConfig = () => componentNameConfig('statestore');
/** the Dapr app id of a service this one invokes, defaulting to `fallback` */
export const appIdConfig = (fallback: string) =>
  z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'expected a Dapr app id')
    .default(fallback);
/** REDIS_URL: direct Redis (leaderboards, rate limits); unset → in-process */
export const redisUrlConfig = () =>
  z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port or rediss://…')
    .optional();

/** Environment every service reads; extend it with `serviceConfig(shape)`. */
export const baseConfigShape = {
  PORT: port,
  /** the address the service listens on: all interfaces in a pod (probes, the ingress), loopback locally (the launcher) */
  LISTEN_ADDRESS: z.string().min(1).default('0.0.0.0'),
  DAPR_HTTP_PORT: port.default(3500),
  DAPR_HOST: z.string().min(1).default('127.0.0.1'),
  DAPR_API_TOKEN: z.string().min(1).optional(),
  /** what the app's own sidecar presents as `dapr-api-token`; when set, nothing else may call the app (docs/api.md) */
  APP_API_TOKEN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().max(120_000).default(10_000),
  JSON_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 100kb or 1mb')
    .default('100kb'),
};

/** Builds the schema of a service's configuration: the base variables plus its own. */
export function serviceConfig<S extends z.ZodRawShape>(shape: S, defaults: { PORT: number }) {
  return z.object({ ...baseConfigShape, PORT: port.default(defaults.PORT), ...shape });
}

export type BaseConfig = z.infer<ReturnType<typeof serviceConfig<Record<never, never>>>>;

/** Validates `env` against `schema`; throws ConfigError naming every bad variable. */
export function loadConfig<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  // Empty strings mean "unset" (as in Kubernetes env with an empty value), so defaults apply.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(root)',
      message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
    })),
  );
}

/** `loadConfig`, but a bad value prints one clear line to stderr and exits 1. */
export function loadConfigOrExit<T extends z.ZodType>(
  serviceName: string,
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${serviceName}: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
