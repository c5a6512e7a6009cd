/**
 * The ES256 keys that sign access tokens, read from the Dapr secret store (never from the repo
 * or the environment) and re-read periodically so a rotation needs no restart.
 *
 * Secret format (docs/decisions/0401-jwt-signing-keys-secret.md): the secret `jwt-signing-keys`
 * has one value, a JSON document
 *   { "current":  { "kid": "…", "privateKeyPem": "-----BEGIN PRIVATE KEY-----…" },
 *     "previous": { "kid": "…", "publicKeyPem": "…" } }          // optional, during a rollover
 * `current` signs; `previous` (public or private PEM) is only served in the JWKS until every
 * token it signed has expired.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from 'pino';
import { AppError, type Dapr } from '@quizmesh/platform';
import type { Jwks } from '@quizmesh/contracts/identity-api';

const kid = z.string().regex(/^[\w.-]{1,128}$/, 'kid must be 1-128 letters, digits, "-", "_" or "."');
export const signingKeysSecretSchema = z.object({
  current: z.object({ kid, privateKeyPem: z.string().min(1) }),
  previous: z
    .object({ kid, publicKeyPem: z.string().min(1).optional(), privateKeyPem: z.string().min(1).optional() })
    .refine((p) => p.publicKeyPem !== undefined || p.privateKeyPem !== undefined, 'needs publicKeyPem or privateKeyPem')
    .optional(),
});
export type SigningKeysSecret = z.infer<typeof signingKeysSecretSchema>;

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

export interface LoadedKeys {
  signing: SigningKey;
  jwks: Jwks;
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

function p256(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningKeyError(`${what} must be an EC P-256 key (ES256)`);
  }
  return key;
}

function publicJwk(publicKey: KeyObject, keyId: string): Jwks['keys'][number] {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string')
    throw new SigningKeyError(`key ${keyId} has no EC coordinates`);
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: keyId, use: 'sig', alg: 'ES256' };
}

/** Parses the secret's JSON value into a signing key and the JWKS (public parts only). */
export function parseSigningKeys(value: string): LoadedKeys {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new SigningKeyError('the signing-keys secret is not JSON');
  }
  const parsed = signingKeysSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new SigningKeyError(
      `the signing-keys secret is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const { current, previous } = parsed.data;
  let privateKey: KeyObject;
  try {
    privateKey = p256(createPrivateKey(current.privateKeyPem), 'current key');
  } catch (err) {
    throw err instanceof SigningKeyError ? err : new SigningKeyError('current.privateKeyPem is not a PEM private key');
  }
  const keys = [publicJwk(createPublicKey(privateKey), current.kid)];
  if (previous && previous.kid !== current.kid) {
    let previousPublic: KeyObject;
    try {
      previousPublic = p256(createPublicKey(previous.publicKeyPem ?? previous.privateKeyPem ?? ''), 'previous key');
    } catch (err) {
      throw err instanceof SigningKeyError ? err : new SigningKeyError('previous key is not a PEM key');
    }
    keys.push(publicJwk(previousPublic, previous.kid));
  }
  return { signing: { kid: current.kid, privateKey }, jwks: { keys } };
}

export interface KeySource {
  /** the secret's JSON value */
  read(): Promise<string>;
}

/** Reads the secret through the platform's Dapr client (`secretstores.*` component). */
export function daprKeySource(dapr: Pick<Dapr, 'getSecret'>, store: string, secretName: string): KeySource {
  return {
    async read() {
      const secret = await dapr.getSecret(store, secretName);
      const value = secret[secretName] ?? (Object.keys(secret).length === 1 ? Object.values(secret)[0] : undefined);
      if (value === undefined)
        throw new SigningKeyError(`secret ${store}/${secretName} has no value named ${secretName}`);
      return value;
    },
  };
}

/** Caches the keys for `refreshMs`; a failed refresh keeps serving the last good keys. */
export class SigningKeys {
  private loaded: LoadedKeys | undefined;
  private loadedAt = 0;
  private inflight: Promise<LoadedKeys> | undefined;

  constructor(
    private readonly source: KeySource,
    private readonly refreshMs: number,
    private readonly logger: Logger,
  ) {}

  async get(): Promise<LoadedKeys> {
    if (this.loaded && Date.now() - this.loadedAt < this.refreshMs) return this.loaded;
    this.inflight ??= this.reload().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Readiness: throws while no key could ever be loaded. */
  async check(): Promise<void> {
    await this.get();
  }

  private async reload(): Promise<LoadedKeys> {
    try {
      const keys = parseSigningKeys(await this.source.read());
      if (this.loaded && this.loaded.signing.kid !== keys.signing.kid) {
        this.logger.info({ kid: keys.signing.kid, previousKid: this.loaded.signing.kid }, 'signing key rotated');
      }
      this.loaded = keys;
      this.loadedAt = Date.now();
      return keys;
    } catch (err) {
      if (this.loaded) {
        this.logger.warn({ err }, 'could not refresh the signing keys; keeping the current ones');
        this.loadedAt = Date.now();
        return this.loaded;
      }
      this.logger.error({ err }, 'no signing keys available');
      throw new AppError(503, {
        detail: 'signing keys are not available yet',
        code: 'signing-keys-unavailable',
        cause: err,
      });
    }
  }
}
