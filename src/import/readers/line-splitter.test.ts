import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineSplitter } from './line-splitter.js';

type Seen = Array<[string, number] | ['too long', number]>;

function split(pieces: readonly string[], maxChars?: number): Seen {
  const seen: Seen = [];
  const lines = new LineSplitter(
    (text, line) => seen.push([text, line]),
    maxChars === undefined ? undefined : { maxChars, onLongLine: (line) => seen.push(['too long', line]) },
  );
  for (const piece of pieces) lines.push(piece);
  lines.end();
  return seen;
}

describe('LineSplitter', () => {
  it('numbers lines from 1, drops a leading BOM and the CR of CRLF, and keeps blank lines', () => {
    assert.deepEqual(split(['\ufeffa\r\n\nb\r\nc']), [
      ['a', 1],
      ['', 2],
      ['b', 3],
      ['c', 4],
    ]);
  });

  it('gives no last line when the text ends with a newline', () => {
    assert.deepEqual(split(['a\n']), [['a', 1]]);
    assert.deepEqual(split(['']), []);
  });

  it('gives the same lines however the text is cut', () => {
    const text = fc
      .array(fc.constantFrom('a', 'é', '\n', '\r', ' '), { maxLength: 40 })
      .map((c) => c.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(40)), (whole, cuts) => {
        const at = [...new Set(cuts.filter((c) => c <= whole.length))].sort((a, b) => a - b);
        const pieces = [0, ...at].map((from, i) => whole.slice(from, at[i] ?? whole.length));
        assert.deepEqual(split(pieces), split([whole]));
      }),
    );
  });

  it('drops a line longer than the limit, says which it was, and goes on with the next', () => {
    assert.deepEqual(split(['ab', 'cdef', 'g\nhi\n'], 4), [
      ['too long', 1],
      ['hi', 2],
    ]);
    assert.deepEqual(split(['abcdef'], 4), [['too long', 1]]);
  });

  it('tells how much of the unfinished line it holds, and its number', () => {
    const lines = new LineSplitter(() => {});
    lines.push('a\nbc');
    assert.deepEqual([lines.line, lines.pendingChars], [2, 2]);
  });
});
