import pino from 'pino';
import { Redis } from 'ioredis';
import { backendUrls, deleteRedisKeys, redisKeyPrefix } from '@quizmesh/platform/testing';
import { RedisLeaderboardStore } from '../src/leaderboard';
import { leaderboardStoreContract } from './leaderboard-store-contract';

describe('Redis leaderboard store', () => {
  leaderboardStoreContract(async () => {
    const keyPrefix = redisKeyPrefix('qm_eval_board');
    const store = new RedisLeaderboardStore({ url: backendUrls.redis, keyPrefix, logger: pino({ level: 'silent' }) });
    return {
      store,
      async cleanup() {
        await store.close();
        await deleteRedisKeys(`${keyPrefix}*`);
      },
    };
  });

  it('loads its script again after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    const keyPrefix = redisKeyPrefix('qm_eval_board');
    const store = new RedisLeaderboardStore({ url: backendUrls.redis, keyPrefix, logger: pino({ level: 'silent' }) });
    const admin = new Redis(backendUrls.redis);
    try {
      await store.record([{ board: 'global', userId: '00000000-0000-4000-8000-000000000001', boardScore: 42 }]);
      await admin.script('FLUSH');
      const found = await store.around('global', '00000000-0000-4000-8000-000000000001', 1);
      expect(found?.player).toEqual({ rank: 1, userId: '00000000-0000-4000-8000-000000000001', boardScore: 42 });
      expect(await admin.type(store.keyOf('global'))).toBe('zset');
    } finally {
      await store.close();
      admin.disconnect();
      await deleteRedisKeys(`${keyPrefix}*`);
    }
  });
});
