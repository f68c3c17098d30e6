/** What a request may do: act as one user, or as every user (an admin token, or authentication off). */
export interface Access {
  /** The token's public id; null when authentication is off. */
  tokenId: string | null;
  /** The one user this request may write and read; null for every user. */
  userId: string | null;
}

/** The access of every request while authentication is off: the local quick start, where anyone may do anything. */
export const OPEN_ACCESS: Access = Object.freeze({ tokenId: null, userId: null });

export function mayActAs(access: Access, userId: string): boolean {
  return access.userId === null || access.userId === userId;
}

/** The distinct user ids among `userIds` that `access` may not act as, in first-seen order. */
export function foreignUserIds(access: Access, userIds: Iterable<string>): string[] {
  if (access.userId === null) return [];
  const foreign = new Set<string>();
  for (const userId of userIds) if (userId !== access.userId) foreign.add(userId);
  return [...foreign];
}
