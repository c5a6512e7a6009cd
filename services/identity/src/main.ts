import { telemetry } from './instrumentation';
import { loadConfigOrExit, ServiceRuntime } from '@quizmesh/platform';
import { startOutboxRelay } from '@quizmesh/platform/outbox';
import { disconnectPrismaClient } from '@quizmesh/platform/db';
import { identityConfigSchema } from './config';
import { createIdentityApp } from './app';
import { createIdentityPrisma } from './db';
import { daprKeySource, SigningKeys } from './signing-keys';
import { TokenIssuer } from './tokens';

async function main() {
  const config = loadConfigOrExit('identity', identityConfigSchema);
  const runtime = new ServiceRuntime({ service: 'identity', config, telemetry }).handleSignals();
  const prisma = createIdentityPrisma(config.DATABASE_URL, runtime.logger);
  // Shutdown runs cleanups last-registered-first: relay, then database, then the Dapr client.
  runtime.shutdown.onShutdown('database', () => disconnectPrismaClient(prisma));
  const relay = startOutboxRelay({
    prisma,
    dapr: runtime.dapr,
    pubsub: config.PUBSUB_NAME,
    logger: runtime.logger,
    source: 'identity',
    intervalMs: config.OUTBOX_POLL_MS,
    shutdown: runtime.shutdown,
  });
  const keys = new SigningKeys(
    daprKeySource(runtime.dapr, config.SECRET_STORE_NAME, config.JWT_SIGNING_KEYS_SECRET),
    config.SIGNING_KEYS_REFRESH_SECONDS * 1000,
    runtime.logger,
  );
  const tokens = new TokenIssuer(keys, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
  });
  const app = createIdentityApp(runtime, config, {
    prisma,
    tokens,
    keys,
    relay,
    logger: runtime.logger,
    bootstrapAdminEmail: config.IDENTITY_BOOTSTRAP_ADMIN_EMAIL,
  });
  await runtime.listen(app);
}

main().catch((err: unknown) => {
  console.error('identity: failed to start:', err);
  process.exit(1);
});
