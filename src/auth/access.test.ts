import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foreignUserIds, mayActAs, OPEN_ACCESS } from './access.js';

describe('access', () => {
  it('lets a user token act only as its user, and open access or an admin token as anyone', () => {
    const user = { tokenId: 't', userId: 'a1' };
    assert.equal(mayActAs(user, 'a1'), true);
    assert.equal(mayActAs(user, 'A1'), false);
    assert.equal(mayActAs(user, 'a1/phone'), false);
    assert.equal(mayActAs({ tokenId: 'adm', userId: null }, 'anyone'), true);
    assert.equal(mayActAs(OPEN_ACCESS, 'anyone'), true);
  });

  it('lists the foreign user ids once each, in first-seen order', () => {
    const user = { tokenId: 't', userId: 'a1' };
    assert.deepEqual(foreignUserIds(user, ['a1', 'c3', 'a1', 'b2', 'c3']), ['c3', 'b2']);
    assert.deepEqual(foreignUserIds(user, ['a1', 'a1']), []);
    assert.deepEqual(foreignUserIds(OPEN_ACCESS, ['x', 'y']), []);
  });
});
