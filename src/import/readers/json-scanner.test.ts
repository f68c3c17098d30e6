import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnreadableFileError } from '../types.js';
import { JsonMemberScanner } from './json-scanner.js';

function scan(pieces: string[], maxValueChars?: number): { events: unknown[]; error: unknown } {
  const events: unknown[] = [];
  const scanner = new JsonMemberScanner(
    ['items'],
    {
      array: (key) => events.push(['array', key]),
      item: (key, index, value) => events.push(['item', key, index, value]),
      member: (key, value) => events.push(['member', key, value]),
    },
    maxValueChars,
  );
  try {
    for (const piece of pieces) scanner.write(piece);
    scanner.end();
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

describe('JsonMemberScanner', () => {
  it('hands over items one by one and other members whole, byte-order mark and primitives included', () => {
    const text =
      '\uFEFF { "n" : -1.5e3 , "items" : [ true , null , "a\\"]" , [ {} ] ] , "o" : { "items" : [1] } }\n';
    const expected = [
      ['member', 'n', -1500],
      ['array', 'items'],
      ['item', 'items', 0, true],
      ['item', 'items', 1, null],
      ['item', 'items', 2, 'a"]'],
      ['item', 'items', 3, [{}]],
      ['member', 'o', { items: [1] }],
    ];
    assert.deepEqual(scan([text]), { events: expected, error: undefined });
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(scan([text.slice(0, cut), text.slice(cut)]).events, expected, `cut at ${cut}`);
    }
  });

  it('finds the same items when their strings and nested objects hold `},` and `}]`', () => {
    const items = [{ a: { b: 1 }, c: '},]' }, { s: '"}, {' }, { n: [{ x: '}' }, { y: 2 }] }, { e: {} }];
    const text = `{"items":[${items.map((item) => JSON.stringify(item)).join(' ,\n')}], "z": {"q": "}]"}}`;
    const expected = [
      ['array', 'items'],
      ...items.map((item, index) => ['item', 'items', index, item]),
      ['member', 'z', { q: '}]' }],
    ];
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(
        scan([text.slice(0, cut), text.slice(cut)]),
        { events: expected, error: undefined },
        `cut at ${cut}`,
      );
    }
  });

  it('refuses broken structure between items with its line and column', () => {
    const cases: [string, string][] = [
      ['{"items":[1,]}', 'not valid JSON at line 1, column 13: expected a value'],
      ['{"items":[1 2]}', "not valid JSON at line 1, column 13: expected ',' or ']' after an array item"],
      ['{\n"a" 1}', "not valid JSON at line 2, column 5: expected ':' after a member name"],
      ['{"a":1,}', 'not valid JSON at line 1, column 8: expected a member name in double quotes'],
      ['{"a":1} x', 'not valid JSON at line 1, column 9: unexpected text after the JSON object'],
      ['{"a":tru}', 'not valid JSON at line 1, column 6: '],
    ];
    for (const [text, message] of cases) {
      const { error } = scan([text]);
      assert.ok(error instanceof UnreadableFileError, text);
      assert.ok(error.message.startsWith(message), `${text}: ${error.message}`);
    }
  });

  it('hands over the items before a bad one in the same piece of text, then stops at the bad one', () => {
    const text = '{"items":[{"a":1}, [2],\n{"b":tru}, 4]}';
    const { events, error } = scan([text]);
    assert.deepEqual(events, [
      ['array', 'items'],
      ['item', 'items', 0, { a: 1 }],
      ['item', 'items', 1, [2]],
    ]);
    assert.ok(error instanceof UnreadableFileError);
    assert.match(error.message, /^not valid JSON at line 2, column 1: Unexpected token/);
    // A fault between items comes after the items before it.
    const between = scan(['{"items":[1, 2, 3 4]}']);
    assert.deepEqual(between.events.length, 4);
    assert.match(String(between.error), /column 19: expected ',' or ']' after an array item/);
  });

  it('stops at an unfinished value longer than the limit rather than hold more of it in memory', () => {
    const long = `"${'x'.repeat(50)}"`;
    const { events, error } = scan(
      ['{"items":[1,', long.slice(0, 30), long.slice(30, 45), long.slice(45), ']}'],
      40,
    );
    assert.deepEqual(events, [
      ['array', 'items'],
      ['item', 'items', 0, 1],
    ]);
    assert.ok(error instanceof UnreadableFileError);
    assert.equal(
      error.message,
      'not valid JSON at line 1, column 13: a JSON value longer than 40 characters',
    );
  });
});
