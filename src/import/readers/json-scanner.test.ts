import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnreadableFileError } from '../types.js';
import { JsonMemberScanner, MAX_CONTAINERS, MAX_DEPTH, MAX_VALUE_CHARS } from './json-scanner.js';

function scan(
  pieces: string[],
  maxValueChars?: number,
  maxDepth?: number,
): { events: unknown[]; error: unknown } {
  const events: unknown[] = [];
  const scanner = new JsonMemberScanner(
    ['items'],
    {
      array: (key) => events.push(['array', key]),
      item: (key, index, value) => events.push(['item', key, index, value]),
      member: (key, value) => events.push(['member', key, value]),
    },
    maxValueChars,
    maxDepth,
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

  it('stops at nesting deeper than the limit, counted from the top-level object, wherever the text is cut', () => {
    // Level 1 is the object, 2 the array, 3 the item: `[[[1]]]` as an item reaches level 5.
    const ok = '{"items":[{"a":[[1]]}], "m": [[[1]]]}';
    const expected = [
      ['array', 'items'],
      ['item', 'items', 0, { a: [[1]] }],
      ['member', 'm', [[[1]]]],
    ];
    assert.deepEqual(scan([ok], undefined, 5), { events: expected, error: undefined });
    const deep = '{"items":[1, [[[[1]]]]]}';
    for (let cut = 0; cut <= deep.length; cut++) {
      const { events, error } = scan([deep.slice(0, cut), deep.slice(cut)], undefined, 5);
      assert.ok(error instanceof UnreadableFileError, `cut at ${cut}`);
      assert.equal(
        error.message,
        'JSON nested deeper than 5 levels at line 1, column 17: not a location file',
      );
      assert.deepEqual(events, [
        ['array', 'items'],
        ['item', 'items', 0, 1],
      ]);
    }
    const member = scan(['{"m": {"a": {"b": {"c": {"d": 1}}}}}'], undefined, 4);
    assert.match(String(member.error), /nested deeper than 4 levels at line 1, column 25/);
  });

  it(`stops a value nested ${MAX_DEPTH * 1000} deep at the first bracket past ${MAX_DEPTH} levels`, () => {
    const scanner = new JsonMemberScanner(['features'], { array() {}, item() {}, member() {} });
    scanner.write('{"features":[');
    // Pieces as a file arrives; the scan stops in the first one, never keeping the rest.
    assert.throws(
      () => {
        for (let i = 0; i < 1000; i++) scanner.write('['.repeat(MAX_DEPTH));
      },
      {
        name: 'UnreadableFileError',
        message: `JSON nested deeper than ${MAX_DEPTH} levels at line 1, column ${14 + MAX_DEPTH - 2}: not a location file`,
      },
    );
  });

  it(`stops at a value with more than ${MAX_CONTAINERS} arrays and objects, however shallow`, () => {
    const many = '[],'.repeat(MAX_CONTAINERS);
    const { events, error } = scan(['{"items":[1,[', many.slice(0, 50_000), many.slice(50_000), '[]]]}']);
    assert.equal(events.length, 2);
    assert.ok(error instanceof UnreadableFileError);
    assert.equal(
      error.message,
      `more than ${MAX_CONTAINERS} arrays and objects in one JSON value at line 1, column ${14 + 3 * (MAX_CONTAINERS - 1)}: not a location file`,
    );
    // One fewer is read (it is under the length limit too).
    const fewer = '[],'.repeat(MAX_CONTAINERS - 2);
    const read = scan(['{"items":[[', fewer.slice(0, 50_000), fewer.slice(50_000), '[]]]}']);
    assert.equal(read.error, undefined);
    assert.equal((read.events[1] as [string, string, number, unknown[]])[3].length, MAX_CONTAINERS - 1);
  });

  it(`also stops at a complete value longer than the limit (${MAX_VALUE_CHARS} characters by default)`, () => {
    const { error } = scan([`{"items":[1,"${'x'.repeat(50)}"]}`], 40);
    assert.ok(error instanceof UnreadableFileError);
    assert.equal(
      error.message,
      'not valid JSON at line 1, column 13: a JSON value longer than 40 characters',
    );
  });
});
