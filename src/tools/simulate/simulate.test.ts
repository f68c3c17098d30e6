import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { expectFromRows } from './expected.js';
import { laneByUser, readMerged, type SimRow } from './rows.js';
import { percentile } from './send.js';
import { compareMinutes } from './verify.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `timestamp,lat,long,accuracy,speed,user_id\n${lines.join('\n')}\n`);
  return file;
}

const row = (timestamp: string, user: string, lat = 40.7): SimRow => ({
  timestamp,
  lat,
  long: -73.9,
  accuracy: 5,
  speed: 1,
  user_id: user,
});

describe('readMerged', () => {
  it('merges files by timestamp, keeping file order for equal timestamps, numbers as numbers', async () => {
    const a = csv('a.csv', ['2017-01-01 10:00:02,40.1,-73.9,5,1,a', '2017-01-01 10:00:00,40.2,-73.9,5,1,a']);
    const b = csv('b.csv', ['2017-01-01 10:00:01,40.3,-73.9,5,1,b', '2017-01-01 10:00:02,40.4,-73.9,5,1,b']);
    const rows = await readMerged([a, b]);
    assert.deepEqual(
      rows.map((r) => [r.timestamp, r.lat]),
      [
        ['2017-01-01 10:00:00', 40.2],
        ['2017-01-01 10:00:01', 40.3],
        ['2017-01-01 10:00:02', 40.1],
        ['2017-01-01 10:00:02', 40.4],
      ],
    );
  });

  it('keeps cells that are not numbers as text, for the server to judge', async () => {
    const [only] = await readMerged([csv('c.csv', ['2017-01-01 10:00:00,north,-73.9,,1,a'])]);
    assert.equal(only?.lat, 'north');
    assert.equal(only?.accuracy, '');
  });

  it('fails on a missing file', async () => {
    await assert.rejects(readMerged([path.join(dir, 'nope.csv')]), /ENOENT/);
  });
});

describe('laneByUser', () => {
  it("keeps each user's rows together and in order", () => {
    const rows = ['a', 'b', 'c', 'a', 'b', 'a'].map((user, i) => row(`2017-01-01 10:00:0${i}`, user));
    const lanes = laneByUser(rows, 2);
    assert.equal(lanes.length, 2);
    for (const lane of lanes) {
      const users = new Set(lane.map((r) => r.user_id));
      for (const user of users) {
        const times = rows.filter((r) => r.user_id === user).map((r) => r.timestamp);
        assert.deepEqual(
          lane.filter((r) => r.user_id === user).map((r) => r.timestamp),
          times,
        );
      }
    }
    assert.equal(lanes.flat().length, rows.length);
  });
});

describe('expectFromRows', () => {
  it('counts rejected rows and duplicates, and keeps the first copy', () => {
    const expectation = expectFromRows([
      row('2017-01-01 13:05:12', 'a', 40.1),
      row('2017-01-01 13:05:12', 'a', 40.9),
      { ...row('2017-01-01 13:05:30', 'a'), lat: 'x' },
      row('2017-01-01 13:05:40', 'a', 40.3),
    ]);
    assert.equal(expectation.rejected, 1);
    assert.equal(expectation.duplicates, 1);
    assert.deepEqual(expectation.users.get('a'), [
      { minute: '2017-01-01T18:05:00.000Z', samples: 2, lat: 40.2, long: -73.9, accuracy: 5, speed: 1 },
    ]);
  });
});

describe('compareMinutes', () => {
  const minute = {
    minute: '2017-01-01T18:05:00.000Z',
    samples: 2,
    lat: 40.2,
    long: -73.9,
    accuracy: 5,
    speed: 1,
  };
  it('finds nothing when equal', () => assert.deepEqual(compareMinutes('a', [minute], [{ ...minute }]), []));
  it('names missing, extra and different minutes', () => {
    const other = { ...minute, minute: '2017-01-01T18:06:00.000Z' };
    assert.deepEqual(compareMinutes('a', [minute], [other]), [
      'a 2017-01-01T18:05:00.000Z: missing',
      'a 2017-01-01T18:06:00.000Z: not expected',
    ]);
    assert.deepEqual(compareMinutes('a', [minute], [{ ...minute, samples: 3 }]), [
      'a 2017-01-01T18:05:00.000Z: samples is 3, expected 2',
    ]);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(samples, 0.5), 50);
    assert.equal(percentile(samples, 0.99), 99);
    assert.equal(percentile([], 0.5), 0);
  });
});
