import { createHash, randomBytes } from 'node:crypto';

/** Every token starts with this, so that a leaked one is recognisable (secret scanners, logs, chat). */
export const TOKEN_PREFIX = 'locus_';

/** 32 random bytes: 256 bits, far beyond guessing. */
const TOKEN_BYTES = 32;

/** What `locus token create` makes: the secret (shown once), its hash (stored) and a public id (for revoke). */
export interface NewSecret {
  token: string;
  hash: string;
  id: string;
}

/*
 * SHA-256, not a slow password hash (bcrypt, scrypt, Argon2): those exist to make guessing a low-entropy password
 * from a stolen hash expensive. A token is 256 random bits, which no amount of guessing reaches, so a fast hash is
 * as safe, and it lets a request be checked by looking the hash up (an indexed equality) instead of comparing
 * against every stored hash. The lookup is by value, so there is no per-byte comparison to time either.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newSecret(): NewSecret {
  const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  // The id is public (it is listed and passed to revoke), so it is random too, not derived from the secret.
  return { token, hash: hashToken(token), id: randomBytes(6).toString('hex') };
}
