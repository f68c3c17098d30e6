import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minute, readerOf, text, T0 } from '../../test/support/export-minutes.js';
import { antimeridianCut, geojson } from './geojson.js';
import type { ExportMinute } from './minutes.js';

interface Feature {
  type: 'Feature';
  geometry: { type: string; coordinates: unknown } | null;
  properties: Record<string, unknown>;
}
interface Collection {
  type: string;
  features: Feature[];
}

async function collection(minutes: ExportMinute[]): Promise<Collection> {
  return JSON.parse(await text(geojson(readerOf(minutes), { userId: 'a1' }))) as Collection;
}

describe('antimeridianCut', () => {
  it('is null when the short way does not cross ±180°', () => {
    assert.equal(antimeridianCut([-73.9, 40.7], [-73.8, 40.8]), null);
    assert.equal(antimeridianCut([-179, 0], [-178, 0]), null);
    assert.equal(antimeridianCut([-90, 0], [90, 0]), null); // exactly 180° apart: taken as the plain way
  });

  it('cuts eastward and westward crossings at the interpolated latitude', () => {
    assert.deepEqual(antimeridianCut([179, 10], [-179, 20]), { leave: [180, 15], enter: [-180, 15] });
    assert.deepEqual(antimeridianCut([-179.5, -5], [179.5, -7]), { leave: [-180, -6], enter: [180, -6] });
  });

  it('does not repeat an end that lies on the antimeridian', () => {
    assert.deepEqual(antimeridianCut([180, 1], [-179, 2]), { leave: null, enter: [-180, 1] });
    assert.deepEqual(antimeridianCut([179, 1], [-180, 2]), { leave: [180, 2], enter: null });
  });
});

describe('geojson', () => {
  it('writes a Point Feature per minute with its properties, then the track', async () => {
    const minutes = [0, 1, 2].map((i) => minute(i));
    const fc = await collection(minutes);
    assert.equal(fc.type, 'FeatureCollection');
    assert.equal(fc.features.length, 4);
    assert.deepEqual(fc.features[0], {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [-73.9, 40.7] },
      properties: { minute: '2017-01-01T18:05:00.000Z', accuracy: 10, speed: 0, samples: 1 },
    });
    assert.deepEqual(fc.features[3], {
      type: 'Feature',
      properties: {
        user_id: 'a1',
        minutes: 3,
        first_minute: '2017-01-01T18:05:00.000Z',
        last_minute: '2017-01-01T18:07:00.000Z',
      },
      geometry: { type: 'LineString', coordinates: minutes.map((m) => [m.long, m.lat]) },
    });
  });

  it('keeps accuracy and speed null when no point reported them', async () => {
    const fc = await collection([minute(0, { accuracy: null, speed: null })]);
    assert.deepEqual(fc.features[0]?.properties, {
      minute: '2017-01-01T18:05:00.000Z',
      accuracy: null,
      speed: null,
      samples: 1,
    });
  });

  it('writes no track for fewer than two minutes, and an empty collection for none', async () => {
    assert.deepEqual(await collection([]), { type: 'FeatureCollection', features: [] });
    const one = await collection([minute(0)]);
    assert.deepEqual(
      one.features.map((f) => f.geometry?.type),
      ['Point'],
    );
  });

  it('splits the track into a MultiLineString where it crosses the antimeridian', async () => {
    const longs = [178, 179.5, -179.5, -178, 179];
    const fc = await collection(longs.map((long, i) => minute(i, { long, lat: 0 })));
    const track = fc.features.at(-1);
    assert.deepEqual(track?.geometry, {
      type: 'MultiLineString',
      coordinates: [
        [
          [178, 0],
          [179.5, 0],
          [180, 0],
        ],
        [
          [-180, 0],
          [-179.5, 0],
          [-178, 0],
          [-180, 0],
        ],
        [
          [180, 0],
          [179, 0],
        ],
      ],
    });
    // Every part stays on one side: no segment spans the map.
    const parts = (track?.geometry?.coordinates ?? []) as Array<Array<[number, number]>>;
    for (const part of parts) {
      for (let i = 1; i < part.length; i++) assert.ok(Math.abs(part[i]![0] - part[i - 1]![0]) <= 180);
    }
  });

  it('reads twice, the second time only up to the last minute of the first', async () => {
    const first = [minute(0), minute(1)];
    const reads: Array<number | undefined> = [];
    // A minute stored while the points were being written is in the second read only, unless it is cut off.
    const read = (beforeMs?: number) => {
      reads.push(beforeMs);
      return readerOf(reads.length === 1 ? first : [...first, minute(2)])(beforeMs);
    };
    const fc = JSON.parse(await text(geojson(read, { userId: 'a1' }))) as Collection;
    assert.deepEqual(reads, [undefined, T0 + 2 * 60_000]);
    assert.deepEqual(
      fc.features.at(-1)?.geometry?.coordinates,
      first.map((m) => [m.long, m.lat]),
    );
  });

  it('escapes user ids as JSON', async () => {
    const body = await text(geojson(readerOf([minute(0), minute(1)]), { userId: 'a"\\\n</script>' }));
    const fc = JSON.parse(body) as Collection;
    assert.equal(fc.features.at(-1)?.properties.user_id, 'a"\\\n</script>');
  });

  it('streams: the first chunk comes before the source is read to the end', async () => {
    let produced = 0;
    const endless = () =>
      (async function* () {
        for (let i = 0; ; i += 100) {
          produced += 100;
          await Promise.resolve(); // a page arrives later, as from the store
          yield Array.from({ length: 100 }, (_, j) => minute(j, { minuteMs: T0 + (i + j) * 60_000 }));
        }
      })();
    const chunks = geojson(endless, { userId: 'a1' });
    const first = await chunks.next();
    await chunks.return(undefined);
    assert.equal(first.done, false);
    assert.ok(produced <= 100, `read ${produced} minutes for the first chunk`);
  });
});
