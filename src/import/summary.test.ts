import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FileTally,
  fileSummaryText,
  MAX_REASONS,
  OTHER_REASON,
  positionText,
  reasonOf,
  totalsOf,
} from './summary.js';

describe('reasonOf', () => {
  it('drops the part of a message that names the value', () => {
    assert.equal(reasonOf('must be ≤ 90, got 91.5'), 'must be ≤ 90');
    assert.equal(
      reasonOf('is not a real time: day of 2017-02 30 is out of range 1–28'),
      'is not a real time',
    );
    assert.equal(reasonOf('must be a finite number, not NaN'), 'must be a finite number, not NaN');
  });
});

describe('positionText', () => {
  it('names a line with a colon and an item with a hash', () => {
    assert.equal(positionText('a.csv', { line: 12 }), 'a.csv:12');
    assert.equal(positionText('b.gpx', { item: 0 }), 'b.gpx#0');
  });
});

describe('FileTally', () => {
  it('counts a record once, and each of its fields at fault under its reason', () => {
    const tally = new FileTally('a.csv', 1);
    tally.reject({ line: 2 }, [
      { field: 'lat', message: 'must be ≤ 90, got 91' },
      { field: 'speed', message: 'must be ≥ 0, got -1' },
    ]);
    tally.reject({ line: 3 }, [{ field: 'lat', message: 'must be ≤ 90, got 95' }]);
    const summary = tally.summary('done');
    assert.equal(summary.rejected, 2);
    assert.deepEqual(summary.rejected_by_reason, [
      { field: 'lat', reason: 'must be ≤ 90', count: 2, first_at: 'a.csv:2' },
      { field: 'speed', reason: 'must be ≥ 0', count: 1, first_at: 'a.csv:2' },
    ]);
    assert.deepEqual(
      summary.rejected_examples.map((e) => e.at),
      ['a.csv:2'],
    );
  });

  it('lumps reasons past the limit together, so that a file of unique messages stays small', () => {
    const tally = new FileTally('a.csv');
    for (let i = 0; i < MAX_REASONS + 10; i++)
      tally.reject({ line: i }, [{ field: 'x', message: `odd ${i}` }]);
    const reasons = tally.summary('done').rejected_by_reason;
    assert.equal(reasons.length, MAX_REASONS);
    assert.deepEqual(reasons[0], {
      field: 'x',
      reason: OTHER_REASON,
      count: 11,
      first_at: `a.csv:${MAX_REASONS - 1}`,
    });
  });
});

describe('fileSummaryText', () => {
  it('says every count, the reasons, and the points without accuracy or speed', () => {
    const tally = new FileTally('a.csv');
    tally.format = 'csv';
    tally.read = 3;
    tally.stored = 1;
    tally.duplicates = 1;
    tally.missingAccuracy = 1;
    tally.reject({ line: 4 }, [{ field: 'lat', message: 'must be ≤ 90, got 91' }]);
    const text = fileSummaryText(tally.summary('done'));
    assert.match(
      text,
      /^a\.csv \(csv\): done\n {2}read {8}3\n {2}stored {6}1\n {2}duplicates {2}1\n {2}rejected {4}1\n/,
    );
    assert.match(text, /^ {4}1 × lat: must be ≤ 90 \(first at a\.csv:4\)$/m);
    assert.match(text, /^ {4}e\.g\. a\.csv:4 {2}lat: must be ≤ 90, got 91$/m);
    assert.match(
      text,
      /^ {2}no accuracy 1, no speed 0 \(minute means are taken over the points that have one\)$/m,
    );
  });

  it('is one line for a file that could not be read at all', () => {
    const text = fileSummaryText(new FileTally('x.bin').summary('unreadable', 'x.bin: no such file'));
    assert.equal(text, 'x.bin (unknown format): not read: x.bin: no such file\n');
  });
});

describe('totalsOf', () => {
  it('adds the files up', () => {
    const a = new FileTally('a');
    a.read = 2;
    a.stored = 2;
    const b = new FileTally('b');
    const totals = totalsOf([a.summary('done'), b.summary('unreadable', 'b: no such file')], 1000);
    assert.deepEqual(
      [totals.files, totals.unreadable, totals.read, totals.stored, totals.points_per_second],
      [2, 1, 2, 2, 2],
    );
  });
});
