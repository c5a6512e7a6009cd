import type { Logger } from 'pino';
import { MemoryLeaderboardStore } from './memory-store';
import { RedisLeaderboardStore } from './redis-store';
import type { LeaderboardStore } from './store';

export * from './store';
export * from './leaderboards';
export * from './score';
export { MemoryLeaderboardStore } from './memory-store';
export { RedisLeaderboardStore } from './redis-store';

/** Redis when REDIS_URL is set (every replica shares the boards), else the in-process board. */
export function createLeaderboardStore(options: {
  redisUrl?: string | undefined;
  keyPrefix: string;
  logger: Logger;
}): LeaderboardStore {
  if (options.redisUrl)
    return new RedisLeaderboardStore({ url: options.redisUrl, keyPrefix: options.keyPrefix, logger: options.logger });
  return new MemoryLeaderboardStore();
}
