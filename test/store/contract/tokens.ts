import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { NewToken } from '../../../src/store/store.js';
import type { ContractContext } from './context.js';
import { NOON } from './support.js';

const userToken = (id: string, userId: string, createdMs = NOON): NewToken => ({
  id,
  hash: `${id}-hash`.padEnd(64, '0'),
  userId,
  scope: 'user',
  label: null,
  createdMs,
});

/** `.tokens`: API tokens kept beside the points. */
export function tokenTests(context: ContractContext): void {
  describe('.tokens', () => {
    it('.tokens.list() resolves to [] on a new store', async () => {
      assert.deepEqual(await context.store.tokens.list(), []);
    });

    it('.tokens.create(token) stores a user token; findByHash finds it without the hash', async () => {
      const { tokens } = context.store;
      const created = await tokens.create({ ...userToken('t1', 'chloé'), label: 'phone' });
      const expected = {
        id: 't1',
        userId: 'chloé',
        scope: 'user',
        label: 'phone',
        createdMs: NOON,
        revokedMs: null,
      };
      assert.deepEqual(created, expected);
      assert.deepEqual(await tokens.findByHash(userToken('t1', 'chloé').hash), expected);
    });

    it('.tokens.create(token) stores an admin token with no user', async () => {
      const { tokens } = context.store;
      const admin: NewToken = {
        id: 'a1',
        hash: 'f'.repeat(64),
        userId: null,
        scope: 'admin',
        label: null,
        createdMs: NOON,
      };
      await tokens.create(admin);
      assert.deepEqual(await tokens.findByHash(admin.hash), {
        id: 'a1',
        userId: null,
        scope: 'admin',
        label: null,
        createdMs: NOON,
        revokedMs: null,
      });
    });

    it('.tokens.create(token) rejects a user token without a user, an admin token with one, a repeated hash or id', async () => {
      const { tokens } = context.store;
      await assert.rejects(tokens.create({ ...userToken('t1', 'ana'), userId: null }));
      await assert.rejects(tokens.create({ ...userToken('t2', 'ana'), scope: 'admin' }));
      await tokens.create(userToken('t3', 'ana'));
      await assert.rejects(tokens.create({ ...userToken('t4', 'ben'), hash: userToken('t3', 'ana').hash }));
      await assert.rejects(tokens.create({ ...userToken('t3', 'ben'), hash: 'e'.repeat(64) }));
      assert.deepEqual(
        (await tokens.list()).map((t) => t.id),
        ['t3'],
      );
    });

    it('.tokens.findByHash(hash) resolves to null for an unknown hash', async () => {
      const { tokens } = context.store;
      await tokens.create(userToken('t1', 'ana'));
      assert.equal(await tokens.findByHash('0'.repeat(64)), null);
    });

    it('.tokens.list() lists every token oldest first, revoked ones included', async () => {
      const { tokens } = context.store;
      await tokens.create(userToken('t2', 'ben', NOON + 1));
      await tokens.create(userToken('t1', 'ana', NOON));
      await tokens.revoke('t1', NOON + 5);
      const listed = await tokens.list();
      assert.deepEqual(
        listed.map((t) => [t.id, t.userId, t.revokedMs]),
        [
          ['t1', 'ana', NOON + 5],
          ['t2', 'ben', null],
        ],
      );
      assert.ok(
        listed.every((t) => !('hash' in t)),
        'no hash in listings',
      );
    });

    it('.tokens.revoke(id, atMs) marks the token revoked, keeps the first time, and is false for an unknown id', async () => {
      const { tokens } = context.store;
      await tokens.create(userToken('t1', 'ana'));
      assert.equal(await tokens.revoke('t1', NOON + 10), true);
      assert.equal(await tokens.revoke('t1', NOON + 20), true);
      assert.equal((await tokens.findByHash(userToken('t1', 'ana').hash))?.revokedMs, NOON + 10);
      assert.equal(await tokens.revoke('nope', NOON), false);
    });

    it('.tokens are kept across a restart', async (t: TestContext) => {
      if (!context.canRestart) return t.skip('this backend cannot be reopened');
      await context.store.tokens.create(userToken('t1', 'ana'));
      const reopened = await context.restart();
      assert.equal((await reopened.tokens.findByHash(userToken('t1', 'ana').hash))?.userId, 'ana');
    });
  });
}
