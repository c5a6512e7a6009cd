/**
 * Identity's composition root: everything `main.ts` starts, built from the runtime and the
 * configuration, and used as is by the test harness. Cleanups are registered on
 * `runtime.shutdown` (last registered first: relay, then database, then the Dapr client).
 */
import type { Express } from 'express';
import type { ServiceRuntime } from '@quizmesh/platform';
import { disconnectPrismaClient } from '@quizmesh/platform/db';
import { startServiceOutboxRelay, type OutboxRelay, type OutboxRelayTuning } from '@quizmesh/platform/outbox';
import { createIdentityApp } from './app';
import type { IdentityConfig } from './config';
import { createIdentityPrisma, type PrismaClient } from './db';
import { daprKeySource, SigningKeys } from './signing-keys';
import { TokenIssuer } from './tokens';

export interface Identity {
  app: Express;
  prisma: PrismaClient;
  relay: OutboxRelay;
  keys: SigningKeys;
  tokens: TokenIssuer;
}

export interface IdentityOverrides {
  relay?: OutboxRelayTuning;
}

export function createIdentity(
  runtime: ServiceRuntime,
  config: IdentityConfig,
  overrides: IdentityOverrides = {},
): Identity {
  const prisma = createIdentityPrisma(config.DATABASE_URL, runtime.logger);
  runtime.shutdown.onShutdown('database', () => disconnectPrismaClient(prisma));
  const relay = startServiceOutboxRelay(runtime, prisma, config, overrides.relay);
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
  return { app, prisma, relay, keys, tokens };
}
