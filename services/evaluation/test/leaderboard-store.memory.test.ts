import { MemoryLeaderboardStore } from '../src/leaderboard';
import { leaderboardStoreContract } from './leaderboard-store-contract';

describe('in-process leaderboard store', () => {
  leaderboardStoreContract(async () => {
    const store = new MemoryLeaderboardStore();
    return { store, cleanup: () => store.close() };
  });
});
