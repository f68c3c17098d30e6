import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pagesOf, minute, text } from '../../test/support/export-minutes.js';
import { gpx, gpxLongitude, xmlText, xsdDecimal } from './gpx.js';
import type { ExportMinute } from './minutes.js';

const XSD = new URL('../../test/fixtures/gpx/gpx.xsd', import.meta.url).pathname;
const run = promisify(execFile);

async function hasXmllint(): Promise<boolean> {
  try {
    await run('xmllint', ['--version']);
    return true;
  } catch {
    return false;
  }
}

const XMLLINT = await hasXmllint();
if (!XMLLINT) {
  console.warn(
    'SKIPPING GPX schema validation: xmllint not found (Debian: apt-get install -y libxml2-utils)',
  );
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'locus-gpx-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** xmllint's verdict on `xml` against the GPX 1.1 schema: null when valid, its complaint otherwise. */
async function schemaErrors(xml: string): Promise<string | null> {
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.gpx`);
  await writeFile(file, xml);
  try {
    await run('xmllint', ['--noout', '--nonet', '--schema', XSD, file]);
    return null;
  } catch (error) {
    return String((error as { stderr?: unknown }).stderr ?? error);
  }
}

const gpxOf = (minutes: ExportMinute[], userId = 'a1') => text(gpx(pagesOf(minutes), { userId }));

describe('xsdDecimal', () => {
  it('never uses exponent notation', () => {
    assert.equal(xsdDecimal(1e-7), '0.0000001');
    assert.equal(xsdDecimal(-2.5e-8), '-0.000000025');
    assert.equal(xsdDecimal(-0), '0');
    assert.equal(xsdDecimal(40.701), '40.701');
    assert.equal(xsdDecimal(20_000_000), '20000000');
  });
});

describe('gpxLongitude', () => {
  it('writes the antimeridian as -180, since lon must be below 180', () => {
    assert.equal(gpxLongitude(180), -180);
    assert.equal(gpxLongitude(179.99), 179.99);
    assert.equal(gpxLongitude(-180), -180);
  });
});

describe('xmlText', () => {
  it('escapes markup and replaces non-XML characters', () => {
    assert.equal(xmlText(`a<b>&"c'\uFFFF`), 'a&lt;b&gt;&amp;&quot;c&apos;\uFFFD');
  });
});

describe('gpx', () => {
  it('writes one trk/trkseg with a trkpt, time and extensions per minute', async () => {
    const xml = await gpxOf([minute(0), minute(1, { accuracy: null, speed: null })]);
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<gpx version="1\.1" creator="Locus"/);
    assert.equal(xml.match(/<trk>/g)?.length, 1);
    assert.equal(xml.match(/<trkseg>/g)?.length, 1);
    assert.ok(
      xml.includes(
        '<trkpt lat="40.7" lon="-73.9"><time>2017-01-01T18:05:00.000Z</time><extensions>' +
          '<locus:accuracy>10</locus:accuracy><locus:speed>0</locus:speed><locus:samples>1</locus:samples>' +
          '</extensions></trkpt>',
      ),
    );
    assert.ok(
      xml.includes('<time>2017-01-01T18:06:00.000Z</time><extensions><locus:samples>2</locus:samples>'),
    );
  });

  it(
    'is valid against the GPX 1.1 schema, awkward values included',
    { skip: !XMLLINT && 'no xmllint' },
    async () => {
      const xml = await gpxOf(
        [
          minute(0),
          minute(1, { lat: 90, long: 180, accuracy: 20_000_000, speed: 100_000 }),
          minute(2, { lat: -90, long: -180, accuracy: null, speed: null }),
          minute(3, { lat: 1e-8, long: -2.5e-8, accuracy: 0.001, speed: 1e-7 }),
        ],
        `o'brien <&> "\uFFFF" ü`,
      );
      assert.equal(await schemaErrors(xml), null);
    },
  );

  it('is valid when empty', { skip: !XMLLINT && 'no xmllint' }, async () => {
    assert.equal(await schemaErrors(await gpxOf([])), null);
  });

  it('is checked by a schema that refuses lon="180"', { skip: !XMLLINT && 'no xmllint' }, async () => {
    // Guards the transcribed XSD itself: a fixture that accepted everything would make the tests above moot.
    const xml = (await gpxOf([minute(0)])).replace('lon="-73.9"', 'lon="180"');
    assert.match((await schemaErrors(xml)) ?? 'accepted', /lon/);
  });
});
