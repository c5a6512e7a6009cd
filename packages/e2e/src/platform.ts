/**
 * The whole platform for end-to-end runs: gateway, identity, quiz, evaluation and notification,
 * each with its local sidecar and database, started by the launcher exactly as `npm start`
 * does. `backends: 'local'` runs on the machine's PostgreSQL, Redis and RabbitMQ inside the
 * run's own databases, keys and vhost (removed on stop). Also what a test needs to look behind
 * the API: the services' databases, their log lines, and publishing through a sidecar.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPlatform, type Backends, type StartedPlatform } from '@quizmesh/launcher';
import { chartDaprResourcesForLocalRun, type LocalRun } from '@quizmesh/deploy-checks';
import { GatewayClient, type Account } from './gateway-client';

export const E2E_SERVICES = ['identity', 'quiz', 'evaluation', 'notification'] as const;
/** started only when a test asks for them (`services`) */
export const OPTIONAL_E2E_SERVICES = ['operator'] as const;
export type E2EService = (typeof E2E_SERVICES)[number] | (typeof OPTIONAL_E2E_SERVICES)[number];
export const ADMIN_EMAIL = 'e2e.admin@example.com';

/** Far above what a test sends from one address: the limits themselves are the gateway's own tests. */
const UNLIMITED = '1000000';

export interface E2EPlatform {
  platform: StartedPlatform;
  gateway: GatewayClient;
  backends: Backends;
  /** the JSON log lines a service wrote so far (from the launcher's log file) */
  logLines(service: string): Array<Record<string, unknown>>;
  /** one query against a service's own database */
  query<R extends Record<string, unknown>>(service: string, sql: string, params?: unknown[]): Promise<R[]>;
  /** publishes a CloudEvent through `app`'s sidecar, as that app's outbox relay does */
  publishAs(app: string, topic: string, cloudEvent: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startE2EPlatform(options: {
  backends: Backends;
  serviceEnv?: Record<string, Record<string, string>>;
  /** the services to run besides the gateway; default E2E_SERVICES */
  services?: ReadonlyArray<E2EService>;
  /**
   * Dapr resources the sidecars load: components/ (default), or the chart's, rendered by
   * `helm template` and mapped onto this machine (local backends only; see
   * @quizmesh/deploy-checks chartDaprResourcesForLocalRun).
   */
  daprResources?: 'components' | 'chart';
  /** false: a process that dies stays down (an outage a test controls); default the launcher's supervision */
  restart?: false;
  /** instances per service (local backends only), as `npm start -- --replicas` */
  replicas?: Partial<Record<(typeof E2E_SERVICES)[number], number>>;
}): Promise<E2EPlatform> {
  const extra = options.serviceEnv ?? {};
  const serviceEnv: Record<string, Record<string, string>> = {};
  const defaults: Record<string, Record<string, string>> = {
    gateway: { RATE_LIMIT_PER_IP: UNLIMITED, RATE_LIMIT_PER_USER: UNLIMITED, REGISTER_RATE_LIMIT: UNLIMITED },
    identity: { IDENTITY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL },
  };
  const services: readonly E2EService[] = options.services ?? E2E_SERVICES;
  for (const service of ['gateway', ...services]) {
    serviceEnv[service] = { ...defaults[service], ...extra[service] };
  }
  const platform = await startPlatform({
    services: [...services],
    backends: options.backends,
    serviceEnv,
    readyTimeoutMs: 120_000,
    ...(options.restart === false ? { restart: false as const } : {}),
    ...(options.replicas ? { replicas: options.replicas as Record<string, number> } : {}),
    ...(options.daprResources === 'chart'
      ? {
          daprResources: async (run: LocalRun) => {
            const mapped = await chartDaprResourcesForLocalRun(run);
            return { resourcesPaths: [mapped.resourcesPath], configPaths: mapped.configPaths };
          },
        }
      : {}),
  });
  const endpoint = (app: string) => {
    const found = platform.endpoints[app];
    if (!found) throw new Error(`${app} is not running in this platform`);
    return found;
  };
  return {
    platform,
    backends: options.backends,
    gateway: new GatewayClient(platform.gatewayUrl),
    logLines(service) {
      const text = readFileSync(join(platform.stateDir, 'logs', `${service}.log`), 'utf8');
      return text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
    },
    async query<R extends Record<string, unknown>>(service: string, sql: string, params: unknown[] = []) {
      const url = endpoint(service).databaseUrl;
      if (!url) throw new Error(`${service} has no database`);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async publishAs(app, topic, cloudEvent) {
      const res = await fetch(`http://127.0.0.1:${endpoint(app).sidecarPort}/v1.0/publish/pubsub/${topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', 'dapr-api-token': endpoint(app).daprApiToken },
        body: JSON.stringify(cloudEvent),
      });
      if (res.status !== 204)
        throw new Error(`publish ${topic} through ${app}'s sidecar answered ${res.status}: ${await res.text()}`);
    },
    stop: () => platform.stop(),
  };
}

/** An admin (the bootstrap email), an author (promoted by the admin) and `players` players. */
export async function createCast(gateway: GatewayClient, players: number, prefix = 'e2e') {
  const admin = await gateway.register(ADMIN_EMAIL, 'Admin');
  const author = await gateway.makeAuthor(admin, await gateway.register(`${prefix}.author@example.com`, 'Author'));
  const cast: Account[] = [];
  for (let i = 1; i <= players; i += 1) {
    cast.push(await gateway.register(`${prefix}.player${i}@example.com`, `Player ${i}`));
  }
  return { admin, author, players: cast };
}
