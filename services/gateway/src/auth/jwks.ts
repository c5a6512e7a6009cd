/**
 * The identity service's signing keys (its JWKS), cached. Fetched through Dapr service
 * invocation; used for JWKS_CACHE_TTL_MS; fetched again early when a token names a key id
 * we do not know (identity rotated its key), at most once per JWKS_REFETCH_INTERVAL_MS so
 * that tokens with made-up key ids cannot turn the gateway into a load generator against
 * identity. Concurrent callers share one fetch. When a refresh fails, the last good keys
 * stay in use (keys rotate slowly; refusing every user because identity blinked is worse).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError } from '@quizmesh/platform';

export interface SigningKey {
  kid: string;
  /** the JWK's `alg`, when it names one: tokens signed under this kid must use exactly it */
  alg: string | undefined;
  key: KeyObject;
}

export interface JwksCacheOptions {
  /** returns the parsed JSON of the JWKS document */
  fetchJwks: () => Promise<unknown>;
  ttlMs: number;
  refetchIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

const jwkSetSchema = z.object({
  keys: z.array(
    z.looseObject({ kid: z.string().min(1), kty: z.string(), alg: z.string().optional(), use: z.string().optional() }),
  ),
});

export class JwksCache {
  private keys = new Map<string, SigningKey>();
  /** when the current keys were fetched; 0 = never */
  private fetchedAt = 0;
  /** when the last fetch was started, successful or not (bounds refetches on unknown kids) */
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: JwksCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The key for `kid`, or undefined when identity does not publish it. Throws 503 when no keys could ever be loaded. */
  async getKey(kid: string): Promise<SigningKey | undefined> {
    const now = this.now();
    if (this.fetchedAt === 0 || now - this.fetchedAt >= this.options.ttlMs) {
      await this.refresh();
    } else if (!this.keys.has(kid) && now - this.lastAttemptAt >= this.options.refetchIntervalMs) {
      await this.refresh();
    }
    if (this.fetchedAt === 0) {
      throw new AppError(503, {
        code: 'signing-keys-unavailable',
        detail: 'tokens cannot be verified right now: the identity service did not provide its signing keys',
      });
    }
    return this.keys.get(kid);
  }

  /** Fetches now (shared by concurrent callers); keeps the previous keys when the fetch fails. */
  refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    this.lastAttemptAt = this.now();
    try {
      const parsed = jwkSetSchema.parse(await this.options.fetchJwks());
      const keys = new Map<string, SigningKey>();
      for (const jwk of parsed.keys) {
        const key = toSigningKey(jwk, this.options.logger);
        if (key) keys.set(key.kid, key);
      }
      this.keys = keys;
      this.fetchedAt = this.now();
      this.options.logger.debug({ kids: [...keys.keys()] }, 'loaded identity signing keys');
    } catch (err) {
      this.options.logger.warn(
        { err, keptKeys: this.keys.size },
        this.fetchedAt === 0
          ? 'could not load identity signing keys'
          : 'could not refresh identity signing keys; keeping the previous ones',
      );
    }
  }
}

function toSigningKey(jwk: z.infer<typeof jwkSetSchema>['keys'][number], logger: Logger): SigningKey | undefined {
  // A published private key is identity's bug; never treat it as a verification key.
  if ('d' in jwk || (jwk.use !== undefined && jwk.use !== 'sig')) {
    logger.warn({ kid: jwk.kid }, 'ignoring a JWKS entry that is not a public signing key');
    return undefined;
  }
  try {
    return { kid: jwk.kid, alg: jwk.alg, key: createPublicKey({ key: jwk, format: 'jwk' }) };
  } catch (err) {
    logger.warn({ kid: jwk.kid, err }, 'ignoring a JWKS entry that is not a valid public key');
    return undefined;
  }
}
