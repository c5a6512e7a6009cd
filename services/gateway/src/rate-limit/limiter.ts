/**
 * Fixed-window rate limits on `rate-limiter-flexible`. With Redis (REDIS_URL) every gateway
 * replica counts in the same keys, so a limit holds across replicas; without it (the embedded
 * default) each replica counts in its own memory. When Redis is unreachable the limiter falls
 * back to an in-memory "insurance" limiter: the gateway stays up and still limits, per replica
 * (fail open on consistency, never on availability), and says so in the log once per outage.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitDecision {
  allowed: boolean;
  /** points per window */
  limit: number;
  remaining: number;
  /** until the window resets (allowed) or the next request may pass (denied) */
  resetMs: number;
}

/** One limit (points per window), counted per key. Implementations: memory and Redis. */
export interface RateLimiter {
  readonly points: number;
  readonly durationS: number;
  /** counts one request of `key` and says whether it may pass */
  consume(key: string): Promise<RateLimitDecision>;
  /** forgets `key`'s count (e.g. after a successful login) */
  reset(key: string): Promise<void>;
}

export interface LimiterSpec {
  /** distinguishes limiters that count the same keys (ip, user, login…) */
  name: string;
  points: number;
  durationS: number;
  /**
   * Redis only: points taken from Redis per round trip and spent locally (default 1: one round
   * trip per request, exact). Only for limits that are never `reset` (ip, user): see LeasedLimiter.
   */
  leaseSize?: number;
}

/** Creates limiters that share one backing store; `close()` releases it. */
export interface RateLimiterStore {
  readonly kind: 'memory' | 'redis';
  create(spec: LimiterSpec): RateLimiter;
  /** resolves once the store is usable as itself (Redis connected); until then Redis limits come from memory */
  connected(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

class FlexibleLimiter implements RateLimiter {
  readonly points: number;
  readonly durationS: number;

  constructor(private readonly limiter: RateLimiterAbstract) {
    this.points = limiter.points;
    this.durationS = limiter.duration;
  }

  async consume(key: string): Promise<RateLimitDecision> {
    try {
      const res = await this.limiter.consume(key);
      return { allowed: true, limit: this.points, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
    } catch (rejection) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the limit is reached, with an Error on store failure.
      if (rejection instanceof RateLimiterRes) {
        return { allowed: false, limit: this.points, remaining: 0, resetMs: rejection.msBeforeNext };
      }
      throw rejection;
    }
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

interface Lease {
  /** points this replica may still admit without asking Redis */
  left: number;
  /** Redis's remaining points when the lease was taken (reported, never spent) */
  sharedRemaining: number;
  /** Redis had no more points: deny locally until the window ends */
  exhausted: boolean;
  /** the end of the Redis window the points belong to (never later than Redis's own end) */
  expiresAtMs: number;
}

/**
 * A Redis limit that takes `leaseSize` points per round trip (one atomic INCRBY) and admits
 * requests from that lease in memory until it is spent or its window ends (decision 0970).
 * The sum of the points handed out never exceeds the limit, so it is never over-admitted
 * across replicas; the error is the other way: points leased by one replica and unused are
 * lost to the others, so a client spread over R replicas may be refused up to
 * R × (leaseSize − 1) requests before the limit. Once Redis is exhausted the replica denies
 * locally until the window ends (the count only falls by `reset`, which ip/user limits never
 * call). Concurrent requests for a key wait for one lease request, not one each.
 */
class LeasedLimiter implements RateLimiter {
  readonly points: number;
  readonly durationS: number;
  private readonly leases = new Map<string, Lease>();
  private readonly leasing = new Map<string, Promise<void>>();

  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly leaseSize: number,
    private readonly maxKeys = 100_000,
  ) {
    this.points = limiter.points;
    this.durationS = limiter.duration;
  }

  async consume(key: string): Promise<RateLimitDecision> {
    for (;;) {
      const lease = this.leases.get(key);
      const now = Date.now();
      if (lease && lease.expiresAtMs > now) {
        if (lease.left > 0) {
          lease.left -= 1;
          return {
            allowed: true,
            limit: this.points,
            remaining: lease.sharedRemaining + lease.left,
            resetMs: lease.expiresAtMs - now,
          };
        }
        if (lease.exhausted)
          return { allowed: false, limit: this.points, remaining: 0, resetMs: lease.expiresAtMs - now };
      }
      let pending = this.leasing.get(key);
      if (!pending) {
        pending = this.lease(key).finally(() => this.leasing.delete(key));
        this.leasing.set(key, pending);
      }
      await pending;
    }
  }

  private async lease(key: string): Promise<void> {
    // Before the call: the window Redis reports ends no earlier than this plus its msBeforeNext.
    const startedAtMs = Date.now();
    let res: RateLimiterRes;
    try {
      res = await this.limiter.consume(key, this.leaseSize);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      res = rejection;
    }
    // The counter before our INCRBY tells how many of our points fit under the limit.
    const granted = Math.max(0, Math.min(this.leaseSize, this.points - (res.consumedPoints - this.leaseSize)));
    this.leases.delete(key);
    if (this.leases.size >= this.maxKeys) this.dropExpired(startedAtMs);
    this.leases.set(key, {
      left: granted,
      sharedRemaining: Math.max(0, this.points - res.consumedPoints),
      exhausted: granted < this.leaseSize,
      expiresAtMs: startedAtMs + Math.max(1, res.msBeforeNext),
    });
  }

  /** Bounded memory: expired leases go first, then the oldest (its points are lost, never over-admitted). */
  private dropExpired(now: number): void {
    for (const [key, lease] of this.leases) if (lease.expiresAtMs <= now) this.leases.delete(key);
    while (this.leases.size >= this.maxKeys) {
      const oldest = this.leases.keys().next();
      if (oldest.done) break;
      this.leases.delete(oldest.value);
    }
  }

  async reset(key: string): Promise<void> {
    this.leases.delete(key);
    await this.limiter.delete(key);
  }
}

export function memoryRateLimiterStore(keyPrefix: string): RateLimiterStore {
  return {
    kind: 'memory',
    create: (spec) =>
      new FlexibleLimiter(
        new RateLimiterMemory({
          keyPrefix: `${keyPrefix}:${spec.name}`,
          points: spec.points,
          duration: spec.durationS,
        }),
      ),
    connected: async () => undefined,
    close: async () => undefined,
  };
}

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
  /** how long one Redis command may take before the request is limited from memory instead */
  commandTimeoutMs?: number;
}

function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export function redisRateLimiterStore(options: RedisStoreOptions): RateLimiterStore {
  const { logger, keyPrefix } = options;
  const client = new Redis(options.url, {
    // Fail fast instead of queueing while disconnected: the insurance limiter answers meanwhile.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Keep reconnecting, backing off to 2 s between tries.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    // How long close() waits for a socket to end; ioredis keeps a timer this long even for a socket already gone.
    disconnectTimeout: 500,
  });
  let degraded = false;
  client.on('error', (err: Error) => {
    if (degraded) return;
    degraded = true;
    logger.warn({ err }, 'redis unavailable: rate limits are counted per replica in memory until it is back');
  });
  client.on('ready', () => {
    if (!degraded) return;
    degraded = false;
    logger.info('redis reachable again: rate limits are shared across replicas');
  });
  return {
    kind: 'redis',
    create: (spec) => {
      const prefix = `${keyPrefix}:${spec.name}`;
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: prefix,
        points: spec.points,
        duration: spec.durationS,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, points: spec.points, duration: spec.durationS }),
      });
      const leaseSize = spec.leaseSize ?? 1;
      return leaseSize > 1 ? new LeasedLimiter(limiter, leaseSize) : new FlexibleLimiter(limiter);
    },
    connected: (timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        if (client.status === 'ready') {
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          reject(new Error(`redis at ${redactedUrl(options.url)} not connected within ${timeoutMs} ms`));
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        client.once('ready', onReady);
      }),
    close: async () => {
      // quit() waits for a connected client's pending replies; a client that never connected just disconnects.
      if (client.status === 'ready') await client.quit();
      else client.disconnect();
    },
  };
}
