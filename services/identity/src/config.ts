import { z } from 'zod';
import { pubsubNameConfig, serviceConfig, stateStoreNameConfig } from '@quizmesh/platform';
import { emailSchema } from '@quizmesh/contracts/identity-api';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const identityConfigSchema = serviceConfig(
  {
    DATABASE_URL: z.string().min(1),
    /** `iss` of access tokens; the gateway checks it */
    JWT_ISSUER: z.string().min(1).default('quizmesh-identity'),
    /** `aud` of access tokens; the gateway checks it */
    JWT_AUDIENCE: z.string().min(1).default('quizmesh-api'),
    ACCESS_TOKEN_TTL_SECONDS: seconds(60, 3_600, 900),
    REFRESH_TOKEN_TTL_SECONDS: seconds(3_600, 90 * 86_400, 14 * 86_400),
    /** a refresh-token family is deleted this long after its last token expired or was revoked */
    REFRESH_TOKEN_RETENTION_SECONDS: seconds(0, 365 * 86_400, 7 * 86_400),
    /** Dapr secret store holding the signing keys, and the secret's name (format: docs/decisions/0401) */
    SECRET_STORE_NAME: z.string().min(1).default('secretstore'),
    JWT_SIGNING_KEYS_SECRET: z.string().min(1).default('jwt-signing-keys'),
    /** how often the signing keys are re-read, so a rotation needs no restart */
    SIGNING_KEYS_REFRESH_SECONDS: seconds(5, 3_600, 60),
    PUBSUB_NAME: pubsubNameConfig(),
    /** Dapr state store keeping dead letters of the topics identity consumes */
    STATE_STORE_NAME: stateStoreNameConfig(),
    OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /** this account gets the admin role when it registers; unset (the default) disables it */
    IDENTITY_BOOTSTRAP_ADMIN_EMAIL: emailSchema.optional(),
  },
  { PORT: 3001 },
);

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
