/** How an account is shown: the UserProfile contract. */
import type { UserProfile } from '@quizmesh/contracts/identity-api';
import type { User } from './db';

export const profileSelect = {
  id: true,
  email: true,
  displayName: true,
  roles: true,
  createdAt: true,
  attemptsCount: true,
  bestScorePercent: true,
  lastPlayedAt: true,
} as const;

export type ProfileRow = Pick<User, keyof typeof profileSelect>;

export function toProfile(user: ProfileRow): UserProfile {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
    stats: {
      attempts: user.attemptsCount,
      bestScorePercent: user.bestScorePercent,
      lastPlayedAt: user.lastPlayedAt ? user.lastPlayedAt.toISOString() : null,
    },
  };
}
