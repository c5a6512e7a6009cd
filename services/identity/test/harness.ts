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
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { ServiceRuntime } from '@quizmesh/platform';
import {
  countRows,
  gatewayHeaders,
  startHarness,
  type HarnessContext,
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

function resources(harness: HarnessContext, secretsFile: string): string {
  const folder = harness.resources();
  folder.write(
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
  folder.inMemoryPubsub();
  folder.stateStore();
  // The production Subscriptions (services/identity/README.md) plus a test subscriber for what identity publishes.
  folder.subscriptions('subscriptions.yaml', 'identity', [
    {
      name: 'identity-score-calculated',
      topic: 'score.calculated',
      route: '/events/score.calculated',
      deadLetterTopic: 'score.calculated.deadletter',
    },
    {
      name: 'identity-score-calculated-deadletter',
      topic: 'score.calculated.deadletter',
      route: '/events/score.calculated.deadletter',
    },
    { name: 'test-user-registered', topic: 'user.registered', route: TEST_SUBSCRIBER_PATH },
    { name: 'test-tokens-revoked', topic: 'tokens.revoked', route: TEST_SUBSCRIBER_PATH },
    { name: 'test-user-renamed', topic: 'user.renamed', route: TEST_SUBSCRIBER_PATH },
  ]);
  return folder.path;
}

export async function startIdentity(
  options: {
    backend?: TestBackend;
    env?: Record<string, string>;
    /** 'missing': the secret store has no signing keys (a misconfigured deployment) */
    signingKeys?: 'generated' | 'missing';
  } = {},
): Promise<IdentityUnderTest> {
  return startHarness('identity', async (harness) => {
    const db = await harness.database(options.backend ?? 'postgres', {
      prefix: 'qm_identity',
      schemaPath: join(__dirname, '..', 'prisma', 'schema.prisma'),
    });

    const secretsFile = ensureLocalSecrets(harness.dir);
    if (options.signingKeys === 'missing') writeFileSync(secretsFile, JSON.stringify({ 'some-other-secret': 'x' }));
    const published: CapturedEvent[] = [];
    const appPort = await harness.appPort({
      capturePaths: [TEST_SUBSCRIBER_PATH],
      onCapture: ({ event }) => published.push({ topic: String(event.topic), event }),
    });

    const resourcesPath = resources(harness, secretsFile);
    const launchSidecar = (daprHttpPort: number) =>
      startSidecar(harness.sidecarOptions({ appId: 'identity', appPort: appPort.port, resourcesPath, daprHttpPort }));
    let sidecar: RunningSidecar | undefined = await launchSidecar(0);
    const sidecarPort = sidecar.httpPort;
    const stopSidecar = async () => {
      const running = sidecar;
      sidecar = undefined;
      await running?.close();
    };
    harness.cleanups.push(stopSidecar);

    const { config, runtime, logLines } = harness.runtime({
      service: 'identity',
      schema: identityConfigSchema,
      daprHttpPort: sidecarPort,
      env: { DATABASE_URL: db.url, ...options.env },
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
        return gatewayHeaders(claims.sub, claims.roles);
      },
    };
  });
}

/** Row counts of every identity table: "nothing half-written" checks compare these. */
export interface RowCounts {
  users: number;
  refreshTokens: number;
  outbox: number;
  processed: number;
}

export function rowCounts(prisma: PrismaClient): Promise<RowCounts> {
  return countRows({
    users: prisma.user,
    refreshTokens: prisma.refreshToken,
    outbox: prisma.outboxEvent,
    processed: prisma.processedEvent,
  });
}

let counter = 0;
export function uniqueEmail(prefix = 'player'): string {
  counter += 1;
  return `${prefix}.${process.pid}.${counter}@example.com`;
}
