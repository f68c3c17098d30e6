import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenRecord } from '../store/store.js';
import { hashToken, newSecret, TOKEN_PREFIX } from './tokens.js';
import { TokenVerifier } from './verifier.js';

function record(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return { id: 't1', userId: 'a1', scope: 'user', label: null, createdMs: 0, revokedMs: null, ...overrides };
}

/** A token table of one record per hash, counting lookups. */
function table(records: Record<string, TokenRecord>) {
  const calls: string[] = [];
  return {
    calls,
    findByHash: (hash: string) => {
      calls.push(hash);
      return Promise.resolve(records[hash] ?? null);
    },
  };
}

describe('newSecret', () => {
  it('makes a prefixed base64url token of 32 random bytes, its SHA-256 and a separate id', () => {
    const a = newSecret();
    const b = newSecret();
    assert.match(a.token, new RegExp(`^${TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
    assert.equal(a.hash, hashToken(a.token));
    assert.match(a.hash, /^[0-9a-f]{64}$/);
    assert.match(a.id, /^[0-9a-f]{12}$/);
    assert.notEqual(a.token, b.token);
    assert.notEqual(a.id, b.id);
    assert.equal(a.hash.includes(a.id), false);
  });
});

describe('TokenVerifier', () => {
  it('turns a user token into its user and an admin token into every user', async () => {
    const user = newSecret();
    const admin = newSecret();
    const verifier = new TokenVerifier(
      table({
        [user.hash]: record({ id: 'u', userId: 'a1' }),
        [admin.hash]: record({ id: 'adm', userId: null, scope: 'admin' }),
      }),
    );
    assert.deepEqual(await verifier.verify(user.token), { tokenId: 'u', userId: 'a1' });
    assert.deepEqual(await verifier.verify(admin.token), { tokenId: 'adm', userId: null });
  });

  it('refuses unknown and revoked tokens, and a user token that somehow has no user', async () => {
    const revoked = newSecret();
    const userless = newSecret();
    const verifier = new TokenVerifier(
      table({
        [revoked.hash]: record({ revokedMs: 5 }),
        [userless.hash]: record({ userId: null }),
      }),
    );
    assert.equal(await verifier.verify(newSecret().token), null);
    assert.equal(await verifier.verify(revoked.token), null);
    assert.equal(await verifier.verify(userless.token), null);
  });

  it('asks the store again once an answer is ttlMs old', async () => {
    let now = 1000;
    const secret = newSecret();
    const tokens = table({ [secret.hash]: record() });
    const verifier = new TokenVerifier(tokens, { ttlMs: 100, now: () => now });
    await verifier.verify(secret.token);
    now += 99;
    await verifier.verify(secret.token);
    assert.equal(tokens.calls.length, 1);
    now += 1;
    await verifier.verify(secret.token);
    assert.equal(tokens.calls.length, 2);
  });

  it('remembers at most maxEntries tokens, forgetting the oldest first', async () => {
    const secrets = [newSecret(), newSecret(), newSecret()];
    const tokens = table({});
    const verifier = new TokenVerifier(tokens, { maxEntries: 2 });
    for (const s of secrets) await verifier.verify(s.token);
    assert.equal(verifier.size, 2);
    await verifier.verify(secrets[2]!.token);
    assert.equal(tokens.calls.length, 3, 'the newest is still remembered');
    await verifier.verify(secrets[0]!.token);
    assert.equal(tokens.calls.length, 4, 'the oldest was forgotten');
  });

  it('does not remember a failed lookup: the next request asks again', async () => {
    const secret = newSecret();
    let fail = true;
    let calls = 0;
    const verifier = new TokenVerifier({
      findByHash: () => {
        calls += 1;
        return fail ? Promise.reject(new Error('database is locked')) : Promise.resolve(record());
      },
    });
    await assert.rejects(verifier.verify(secret.token), /locked/);
    fail = false;
    assert.deepEqual(await verifier.verify(secret.token), { tokenId: 't1', userId: 'a1' });
    assert.equal(calls, 2);
  });

  it('keeps valid tokens apart from refused ones: a flood of unknown tokens does not push a valid one out', async () => {
    const valid = newSecret();
    const tokens = table({ [valid.hash]: record() });
    const verifier = new TokenVerifier(tokens, { maxEntries: 2 });
    assert.ok(await verifier.verify(valid.token));
    for (let i = 0; i < 20; i++) assert.equal(await verifier.verify(newSecret().token), null);
    assert.equal(tokens.calls.length, 21);
    assert.equal(verifier.size, 3, 'one valid and at most maxRefusedEntries (here maxEntries) refused');
    assert.ok(await verifier.verify(valid.token));
    assert.equal(tokens.calls.length, 21, 'the valid token was still remembered');
  });

  it('bounds refused tokens by maxRefusedEntries, forgetting the oldest first', async () => {
    const secrets = [newSecret(), newSecret(), newSecret()];
    const tokens = table({});
    const verifier = new TokenVerifier(tokens, { maxEntries: 100, maxRefusedEntries: 2 });
    for (const s of secrets) await verifier.verify(s.token);
    assert.equal(verifier.size, 2);
    await verifier.verify(secrets[2]!.token);
    assert.equal(tokens.calls.length, 3);
    await verifier.verify(secrets[0]!.token);
    assert.equal(tokens.calls.length, 4);
  });

  it('remembers a refusal for refusedTtlMs only, so a token created after a failed try soon works', async () => {
    let now = 1000;
    const secret = newSecret();
    const records: Record<string, TokenRecord> = {};
    const tokens = table(records);
    const verifier = new TokenVerifier(tokens, { ttlMs: 30_000, refusedTtlMs: 5_000, now: () => now });
    assert.equal(await verifier.verify(secret.token), null);
    records[secret.hash] = record();
    now += 4_999;
    assert.equal(await verifier.verify(secret.token), null, 'still the remembered refusal');
    assert.equal(tokens.calls.length, 1);
    now += 1;
    assert.deepEqual(await verifier.verify(secret.token), { tokenId: 't1', userId: 'a1' });
    assert.equal(tokens.calls.length, 2);
  });

  it('refuses for at most 5 s by default, and never longer than ttlMs', async () => {
    let now = 0;
    const secret = newSecret();
    const tokens = table({});
    const verifier = new TokenVerifier(tokens, { now: () => now });
    await verifier.verify(secret.token);
    now += 4_999;
    await verifier.verify(secret.token);
    assert.equal(tokens.calls.length, 1);
    now += 1;
    await verifier.verify(secret.token);
    assert.equal(tokens.calls.length, 2);
    const short = new TokenVerifier(tokens, { ttlMs: 100, refusedTtlMs: 5_000, now: () => now });
    await short.verify(secret.token);
    now += 100;
    await short.verify(secret.token);
    assert.equal(tokens.calls.length, 4);
  });

  it('tells until when a valid answer holds: the time of its lookup plus ttlMs, also when it comes from the cache', async () => {
    let now = 1000;
    const secret = newSecret();
    const verifier = new TokenVerifier(table({ [secret.hash]: record() }), { ttlMs: 100, now: () => now });
    assert.deepEqual(await verifier.check(secret.token), {
      access: { tokenId: 't1', userId: 'a1' },
      untilMs: 1100,
    });
    now += 60;
    assert.equal(
      (await verifier.check(secret.token))?.untilMs,
      1100,
      'not the time of this check plus ttlMs',
    );
    now += 40;
    assert.equal((await verifier.check(secret.token))?.untilMs, 1200, 'looked up again');
    assert.equal(await verifier.check(newSecret().token), null);
  });

  it('never keeps the token itself, only its hash', async () => {
    const secret = newSecret();
    const tokens = table({});
    await new TokenVerifier(tokens).verify(secret.token);
    assert.deepEqual(tokens.calls, [secret.hash]);
  });
});
