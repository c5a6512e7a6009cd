/**
 * Runs identity in-process for component tests, as in production minus the gateway: a real
 * database (PostgreSQL via createTestDatabase, or the embedded PostgreSQL cluster) migrated with
 * the platform's migration code, the real local Dapr sidecar (in-process, port 0) with a local
 * file secret store holding launcher-generated keys, in-memory pub/sub and the
 * score.calculated Subscription, the outbox relay, and the app on a port-0 server.
 *
 * `asGateway(token)` plays the gateway: it verifies the access token against identity's JWKS
 * and forwards the user as the trusted headers, with `dapr-caller-app-id: gateway`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { loadConfig, ServiceRuntime, CALLER_APP_HEADER, USER_ID_HEADER, USER_ROLES_HEADER } from '@quizmesh/platform';
import { applyMigrations } from '@quizmesh/platform/db';
import {
  captureLogLines,
  Cleanups,
  createServiceTestDatabase,
  startAppPort,
  TEST_RELAY_TUNING,
  type TestBackend,
} from '@quizmesh/platform/testing';
import type { OutboxRelay } from '@quizmesh/platform/outbox';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
// The launcher's own generator, so the tests read exactly the secret format `npm start` writes.
// (@quizmesh/launcher does not export it yet: the integrator may add it to its index.)
import { ensureLocalSecrets } from '@quizmesh/launcher';
import { accessTokenClaimsSchema, jwksSchema, type AccessTokenClaims } from '@quizmesh/contracts/identity-api';
import { identityConfigSchema, type IdentityConfig } from '../src/config';
import type { PrismaClient } from '../src/db';
import { createIdentity } from '../src/identity';

export const schemaPath = join(__dirname, '..', 'prisma', 'schema.prisma');
export type Backend = TestBackend;

export interface CapturedEvent {
  topic: string;
  event: Record<string, unknown>;
}

export interface IdentityUnderTest {
  url: string;
  prisma: PrismaClient;
  config: IdentityConfig;
  runtime: ServiceRuntime;
  sidecar(): RunningSidecar;
  /** takes the sidecar down (connections refused), as a crashed or restarting daprd */
  stopSidecar(): Promise<void>;
  /** brings it back on the same port */
  restartSidecar(): Promise<void>;
  relay: OutboxRelay;
  /** CloudEvents identity published, as delivered by the sidecar to a test subscriber */
  published: CapturedEvent[];
  /** every log line identity wrote */
  logLines: string[];
  secretsFile: string;
  asGateway(accessToken: string): Promise<Record<string, string>>;
  verifyAccessToken(accessToken: string): Promise<AccessTokenClaims & { kid: string }>;
  stop(): Promise<void>;
}

const TEST_SUBSCRIBER_PATH = '/__test/published';

function resources(dir: string, secretsFile: string): string {
  const resDir = join(dir, 'resources');
  const write = (name: string, text: string) => writeFileSync(join(resDir, name), text);
  mkdirSync(resDir);
  write(
    'secretstore.yaml',
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: secretstore }
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - { name: secretsFile, value: ${JSON.stringify(secretsFile)} }
    - { name: nestedSeparator, value: ":" }
`,
  );
  write(
    'pubsub.yaml',
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: pubsub }
spec: { type: pubsub.in-memory, version: v1, metadata: [] }
`,
  );
  write(
    'statestore.yaml',
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: statestore }
spec: { type: state.in-memory, version: v1, metadata: [] }
`,
  );
  // The production Subscriptions (services/identity/README.md) plus a test subscriber for what identity publishes.
  write(
    'subscriptions.yaml',
    `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: identity-score-calculated }
spec:
  pubsubname: pubsub
  topic: score.calculated
  routes: { default: /events/score.calculated }
  deadLetterTopic: score.calculated.deadletter
scopes: [identity]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: identity-score-calculated-deadletter }
spec:
  pubsubname: pubsub
  topic: score.calculated.deadletter
  routes: { default: /events/score.calculated.deadletter }
scopes: [identity]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: test-user-registered }
spec:
  pubsubname: pubsub
  topic: user.registered
  routes: { default: ${TEST_SUBSCRIBER_PATH} }
scopes: [identity]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: test-tokens-revoked }
spec:
  pubsubname: pubsub
  topic: tokens.revoked
  routes: { default: ${TEST_SUBSCRIBER_PATH} }
scopes: [identity]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: test-user-renamed }
spec:
  pubsubname: pubsub
  topic: user.renamed
  routes: { default: ${TEST_SUBSCRIBER_PATH} }
scopes: [identity]
`,
  );
  return resDir;
}

export async function startIdentity(
  options: {
    backend?: Backend;
    env?: Record<string, string>;
    /** 'missing': the secret store has no signing keys (a misconfigured deployment) */
    signingKeys?: 'generated' | 'missing';
  } = {},
): Promise<IdentityUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-identity-'));
  const cleanups = new Cleanups();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const stop = () => cleanups.run();
  try {
    const db = await createServiceTestDatabase(options.backend ?? 'postgres', { prefix: 'qm_identity', dir });
    cleanups.push(() => db.close());
    await applyMigrations({ schemaPath, databaseUrl: db.url });

    const secretsFile = ensureLocalSecrets(dir);
    if (options.signingKeys === 'missing') writeFileSync(secretsFile, JSON.stringify({ 'some-other-secret': 'x' }));
    const published: CapturedEvent[] = [];
    const appPort = await startAppPort({
      capturePaths: [TEST_SUBSCRIBER_PATH],
      onCapture: ({ event }) => published.push({ topic: String(event.topic), event }),
    });
    cleanups.push(() => appPort.close());

    const resourcesPath = resources(dir, secretsFile);
    const launchSidecar = (daprHttpPort: number) =>
      startSidecar({
        appId: 'identity',
        appPort: appPort.port,
        daprHttpPort,
        resourcesPaths: [resourcesPath],
        registryDir: join(dir, 'registry'),
        logLevel: 'silent',
        env: {},
      });
    let sidecar: RunningSidecar | undefined = await launchSidecar(0);
    const sidecarPort = sidecar.httpPort;
    const stopSidecar = async () => {
      const running = sidecar;
      sidecar = undefined;
      await running?.close();
    };
    cleanups.push(stopSidecar);

    const config = loadConfig(identityConfigSchema, {
      DATABASE_URL: db.url,
      DAPR_HTTP_PORT: String(sidecarPort),
      LOG_LEVEL: 'debug',
      PORT: '0',
      ...options.env,
    });
    const { lines: logLines, destination: logDestination } = captureLogLines();
    const runtime = new ServiceRuntime({ service: 'identity', config, logDestination, exit: () => undefined });
    // The relay, the database and the Dapr client close as in production: through the runtime's shutdown.
    cleanups.push(async () => {
      await runtime.shutdown.shutdown();
    });
    const { app, prisma, relay } = createIdentity(runtime, config, { relay: TEST_RELAY_TUNING });
    appPort.setHandler(app);
    await sidecar.ready;
    const currentSidecar = () => {
      if (!sidecar) throw new Error('the sidecar is stopped');
      return sidecar;
    };
    const { url } = appPort;

    const verifyAccessToken = async (accessToken: string) => {
      const decoded = jwt.decode(accessToken, { complete: true });
      const kid = decoded?.header.kid;
      const jwks = jwksSchema.parse(await (await fetch(`${url}/.well-known/jwks.json`)).json());
      const jwk = jwks.keys.find((k) => k.kid === kid);
      if (!jwk || !kid) throw new Error(`no JWKS key for kid ${String(kid)}`);
      const claims = jwt.verify(accessToken, createPublicKey({ key: jwk, format: 'jwk' }), {
        algorithms: ['ES256'],
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
      });
      return { ...accessTokenClaimsSchema.parse(claims), kid };
    };

    return {
      url,
      prisma,
      config,
      runtime,
      sidecar: currentSidecar,
      stopSidecar,
      async restartSidecar() {
        await stopSidecar();
        sidecar = await launchSidecar(sidecarPort);
        await sidecar.ready;
      },
      relay,
      published,
      logLines,
      secretsFile,
      verifyAccessToken,
      async asGateway(accessToken: string) {
        const claims = await verifyAccessToken(accessToken);
        return {
          [CALLER_APP_HEADER]: 'gateway',
          [USER_ID_HEADER]: claims.sub,
          [USER_ROLES_HEADER]: claims.roles.join(','),
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Row counts of every identity table: "nothing half-written" checks compare these. */
export interface RowCounts {
  users: number;
  refreshTokens: number;
  outbox: number;
  processed: number;
}

export async function rowCounts(prisma: PrismaClient): Promise<RowCounts> {
  const [users, refreshTokens, outbox, processed] = await Promise.all([
    prisma.user.count(),
    prisma.refreshToken.count(),
    prisma.outboxEvent.count(),
    prisma.processedEvent.count(),
  ]);
  return { users, refreshTokens, outbox, processed };
}

let counter = 0;
export function uniqueEmail(prefix = 'player'): string {
  counter += 1;
  return `${prefix}.${process.pid}.${counter}@example.com`;
}
