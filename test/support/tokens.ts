import { newSecret, type NewSecret } from '../../src/auth/tokens.js';
import type { Store } from '../../src/store/store.js';

/** A new token in the store: for `userId`, or an admin token when it is null. */
export async function issueToken(store: Pick<Store, 'tokens'>, userId: string | null): Promise<NewSecret> {
  const secret = newSecret();
  await store.tokens.create({
    id: secret.id,
    hash: secret.hash,
    userId,
    scope: userId === null ? 'admin' : 'user',
    label: null,
    createdMs: 0,
  });
  return secret;
}
