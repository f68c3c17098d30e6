import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefixEnd, userPageOf } from './store.js';

/** Every string that begins with `prefix` sorts below prefixEnd(prefix), by UTF-8 bytes as the stores compare. */
function below(text: string, end: string): boolean {
  return Buffer.compare(Buffer.from(text), Buffer.from(end)) < 0;
}

describe('prefixEnd', () => {
  it('raises the last code point', () => {
    assert.equal(prefixEnd('ab'), 'ac');
    assert.equal(prefixEnd('a'), 'b');
    assert.equal(prefixEnd('é'), 'ê');
  });

  it('has no end for the empty prefix or one made only of the largest code point', () => {
    assert.equal(prefixEnd(''), null);
    assert.equal(prefixEnd('\u{10FFFF}\u{10FFFF}'), null);
  });

  it('drops trailing U+10FFFF and raises what is before it', () => {
    assert.equal(prefixEnd('a\u{10FFFF}'), 'b');
  });

  it('steps over the surrogates and across the astral planes as whole code points', () => {
    assert.equal(prefixEnd('\uD7FF'), '\uE000');
    assert.equal(prefixEnd('\uFFFF'), '\u{10000}');
    assert.equal(prefixEnd('x\u{1F600}'), 'x\u{1F601}');
  });

  it('is above every extension of the prefix and not above the next prefix, in byte order', () => {
    const prefixes = ['a', 'ab', '\uFFFF', '\u{1F600}', 'é', '\uD7FF'];
    const tails = ['', 'a', '\u0000', '\uFFFF', '\u{10FFFF}', '\u{1F600}zz'];
    for (const prefix of prefixes) {
      const end = prefixEnd(prefix) as string;
      for (const tail of tails) assert.ok(below(prefix + tail, end), `${prefix}${tail} < ${end}`);
      assert.ok(!below(end, end));
    }
  });
});

describe('userPageOf', () => {
  const user = (userId: string) => ({ userId, minutes: 1, samples: 1, firstMinuteMs: 0, lastMinuteMs: 0 });

  it('says where the next page starts only when a row beyond the limit was fetched', () => {
    assert.deepEqual(userPageOf([user('a'), user('b'), user('c')], 2), {
      users: [user('a'), user('b')],
      nextAfterUserId: 'b',
    });
    assert.deepEqual(userPageOf([user('a'), user('b')], 2), {
      users: [user('a'), user('b')],
      nextAfterUserId: null,
    });
  });
});
