import type { Store, UserSummary } from '../../src/store/store.js';

/** Every user of the store, read page by page as a client would; tests compare whole lists. */
export async function allUsers(store: Pick<Store, 'users'>, pageSize = 1_000): Promise<UserSummary[]> {
  const users: UserSummary[] = [];
  let afterUserId: string | undefined;
  for (;;) {
    const page = await store.users({ limit: pageSize, afterUserId });
    users.push(...page.users);
    if (page.nextAfterUserId === null) return users;
    afterUserId = page.nextAfterUserId;
  }
}
