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

/** Opaque keyset cursor over (createdAt, id), newest first. */
export function encodeCursor(user: Pick<User, 'createdAt' | 'id'>): string {
  return Buffer.from(`${user.createdAt.toISOString()}|${user.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(time ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { createdAt, id };
}
