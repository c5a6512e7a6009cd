/**
 * The gateway's limits: every request per client IP, authenticated requests per user, and
 * stricter ones on login (per IP + email, reset by a successful login) and registration
 * (per IP). A limit that is reached answers 429 problem+json with Retry-After.
 */
import { AppError } from '@quizmesh/platform';
import { recordGatewayRejection } from '@quizmesh/platform/telemetry';
import type { GatewayConfig } from '../config';
import type { RateLimiter, RateLimiterStore } from './limiter';

export interface GatewayLimits {
  ip: RateLimiter;
  user: RateLimiter;
  login: RateLimiter;
  register: RateLimiter;
}

export function createGatewayLimits(store: RateLimiterStore, config: GatewayConfig): GatewayLimits {
  return {
    ip: store.create({
      name: 'ip',
      points: config.RATE_LIMIT_PER_IP,
      durationS: config.RATE_LIMIT_WINDOW_S,
      leaseSize: leaseSizeFor(config.RATE_LIMIT_PER_IP),
    }),
    user: store.create({
      name: 'user',
      points: config.RATE_LIMIT_PER_USER,
      durationS: config.RATE_LIMIT_WINDOW_S,
      leaseSize: leaseSizeFor(config.RATE_LIMIT_PER_USER),
    }),
    login: store.create({
      name: 'login',
      points: config.LOGIN_RATE_LIMIT,
      durationS: config.LOGIN_RATE_LIMIT_WINDOW_S,
    }),
    register: store.create({
      name: 'register',
      points: config.REGISTER_RATE_LIMIT,
      durationS: config.REGISTER_RATE_LIMIT_WINDOW_S,
    }),
  };
}

/**
 * Points a replica takes from Redis per round trip for the ip and user limits (decision 0970):
 * 2% of the limit, 1 to 50. A client is refused at most replicas × (lease − 1) requests early
 * (under 2% of the limit per replica), never admitted beyond it. Login and register stay exact
 * (one round trip each): their limits are small and login's is reset on success.
 */
export function leaseSizeFor(points: number): number {
  return Math.min(50, Math.max(1, Math.floor(points / 50)));
}

/** Counts one request of `key`; throws 429 when `limiter`'s limit is reached. `what` names the limit for the client. */
export async function enforce(limiter: RateLimiter, key: string, what: string): Promise<void> {
  const decision = await limiter.consume(key);
  if (decision.allowed) return;
  recordGatewayRejection('rate_limit');
  const retryAfterSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
  throw new AppError(429, {
    code: 'rate-limited',
    detail: `too many requests: at most ${limiter.points} ${what} per ${limiter.durationS} s; retry after ${retryAfterSeconds} s`,
    headers: { 'retry-after': String(retryAfterSeconds) },
    extensions: { retryAfterSeconds },
  });
}
