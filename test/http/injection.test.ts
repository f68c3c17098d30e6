/*
 * User ids made to break SQL (quotes, comments, LIKE wildcards, backslashes) are data like any other: stored and
 * returned verbatim through the API, on SQLite and on PostgreSQL, and never matching another user's rows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { assertProblem } from '../support/problem.js';
import { createTestDatabase, findTestServer, type TestDatabase } from '../store/postgres-database.js';
import { VALID_POINT } from '../support/points.js';

/** Ids a careless query would run as SQL, match as a pattern, or fold into another id. */
const HOSTILE_IDS = [
  "'; DROP TABLE minutes; --",
  "'; DROP TABLE dedupe_keys; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  "a1' --",
  'a1"; DELETE FROM minutes WHERE "1"="1',
  "Robert'); DROP TABLE students;--",
  '%',
  '_',
  'a%',
  'a_',
  '\\',
  'a\\',
  "\\'",
  '\\x00',
  '$1',
  '?',
  ':user_id',
  '@userId',
  '${user_id}',
  '*/ SELECT 1 /*',
  '`ls`',
  'A1',
  'a1 ',
  ' a1',
  'é',
  '\ud83d\ude00 emoji \ud83c\udff3\ufe0f',
  'ß',
  'ss',
  '\u4e2d\u6587',
  'Å',
  'x'.repeat(100),
];

/**
 * Ids that pose as others (issue #14): invisible format and bidi characters are refused, and the Unicode forms of
 * one text are one user, whose key is the NFC form.
 */
const INVISIBLE_IDS = [
  '\u202etxt.exe',
  '\ufeffbom',
  'alice\u200b',
  'flag \ud83c\udff3\ufe0f\u200d\ud83c\udf08',
];
const OTHER_FORMS: ReadonlyArray<[sent: string, key: string]> = [
  ['e\u0301', 'é'],
  ['A\u030a', 'Å'],
];

/** At the limit of 128 characters (code points), beyond the router's default parameter length of 100. */
const LONG_IDS = ['x'.repeat(128), '\ud83d\ude00'.repeat(128), `'${'-'.repeat(126)}'`];

/** Ids that only look like their neighbours: each has its own row, and a read of one never returns another. */
const NEIGHBOURS = ['a1', 'ab', 'a', 'a11'];

function putFor(app: LocusApp, userId: string, second = 12) {
  return app.inject({
    method: 'PUT',
    url: '/location',
    headers: { 'content-type': 'application/json' },
    payload: { ...VALID_POINT, timestamp: `2017-01-01 13:05:${second}`, user_id: userId },
  });
}

async function usersOf(app: LocusApp): Promise<Array<{ user_id: string; samples: number }>> {
  const response = await app.inject('/users');
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ users: Array<{ user_id: string; samples: number }> }>().users;
}

function locationsUrl(userId: string, suffix = ''): string {
  return `/users/${encodeURIComponent(userId)}/locations${suffix}`;
}

/** The whole suite, against a store built by `open` (fresh and empty for each test). */
function injectionSuite(open: (t: TestContext) => Promise<Store>): void {
  async function app(t: TestContext): Promise<LocusApp> {
    const store = await open(t);
    const built = await buildApp({ store });
    t.after(async () => {
      await built.close();
      await store.close();
    });
    return built;
  }

  it('stores each hostile id as one user, lists it verbatim, and every table still works', async (t) => {
    const locus = await app(t);
    const ids = [...HOSTILE_IDS, ...NEIGHBOURS];
    for (const userId of ids) {
      const response = await putFor(locus, userId);
      assert.equal(response.statusCode, 200, `${JSON.stringify(userId)}: ${response.body}`);
      assert.deepEqual(response.json<{ status: string; user_id: string }>().user_id, userId);
      assert.equal(response.json<{ status: string }>().status, 'stored', JSON.stringify(userId));
    }
    const listed = await usersOf(locus);
    assert.deepEqual(new Set(listed.map((u) => u.user_id)), new Set(ids));
    assert.ok(
      listed.every((u) => u.samples === 1),
      'no id matched another',
    );
    // The same points again are duplicates: the dedupe table is there and keyed by the exact id.
    for (const userId of ids) {
      assert.equal((await putFor(locus, userId)).json<{ status: string }>().status, 'duplicate');
    }
  });

  it('reads back each id verbatim through its URL, with only its own minute', async (t) => {
    const locus = await app(t);
    for (const userId of [...HOSTILE_IDS, ...NEIGHBOURS]) await putFor(locus, userId);
    for (const userId of [...HOSTILE_IDS, ...NEIGHBOURS]) {
      const response = await locus.inject(locationsUrl(userId));
      assert.equal(response.statusCode, 200, `${JSON.stringify(userId)}: ${response.body}`);
      const page = response.json<{ user_id: string; locations: Array<{ samples: number }> }>();
      assert.equal(page.user_id, userId);
      assert.deepEqual(
        page.locations.map((l) => l.samples),
        [1],
        JSON.stringify(userId),
      );
    }
  });

  it('exports each id in every format without mixing in another user', async (t) => {
    const locus = await app(t);
    for (const userId of [...HOSTILE_IDS, ...NEIGHBOURS]) await putFor(locus, userId);
    for (const userId of ['%', '_', "'; DROP TABLE minutes; --", 'a1']) {
      for (const format of ['csv', 'geojson', 'gpx']) {
        const response = await locus.inject(locationsUrl(userId, `?format=${format}`));
        assert.equal(response.statusCode, 200, `${JSON.stringify(userId)} ${format}: ${response.body}`);
        if (format === 'csv') {
          assert.equal(response.body.trim().split(/\r?\n/).length, 2, `${userId}: header and one minute`);
        }
      }
    }
  });

  it('refuses ids with invisible format or bidi characters, storing nothing', async (t) => {
    const locus = await app(t);
    for (const userId of INVISIBLE_IDS) {
      const response = await putFor(locus, userId);
      assertProblem(response, 400, 'invalid-body', ['user_id']);
    }
    assert.deepEqual(await usersOf(locus), []);
  });

  it('stores every Unicode form of an id as one user, under its NFC form, read by any form', async (t) => {
    const locus = await app(t);
    for (const [sent, key] of OTHER_FORMS) {
      assert.equal((await putFor(locus, key)).json<{ status: string }>().status, 'stored');
      const again = await putFor(locus, sent);
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json<{ status: string; user_id: string }>(), {
        ...again.json<Record<string, unknown>>(),
        status: 'duplicate',
        user_id: key,
      });
      const read = await locus.inject(locationsUrl(sent));
      assert.equal(read.json<{ user_id: string }>().user_id, key);
    }
    assert.deepEqual(
      (await usersOf(locus)).map((u) => u.user_id).sort(),
      OTHER_FORMS.map(([, key]) => key).sort(),
    );
  });

  it('a user that does not exist but matches others as a pattern is 404', async (t) => {
    const locus = await app(t);
    for (const userId of NEIGHBOURS) await putFor(locus, userId);
    for (const pattern of ['a%', 'a_', '%', '_', '_1', "a1' OR '1'='1", 'A1', 'a1 ']) {
      const response = await locus.inject(locationsUrl(pattern));
      assert.equal(response.statusCode, 404, `${JSON.stringify(pattern)}: ${response.body}`);
    }
  });

  it('hostile ids in a batch and in NDJSON are stored verbatim too', async (t) => {
    const locus = await app(t);
    const points = HOSTILE_IDS.map((userId) => ({ ...VALID_POINT, user_id: userId }));
    const array = await locus.inject({ method: 'POST', url: '/locations', payload: points });
    assert.equal(array.json<{ stored: number }>().stored, HOSTILE_IDS.length, array.body);
    const ndjson = await locus.inject({
      method: 'POST',
      url: '/locations',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: points.map((p) => JSON.stringify({ ...p, timestamp: '2017-01-01 13:05:13' })).join('\n'),
    });
    assert.equal(ndjson.json<{ stored: number }>().stored, HOSTILE_IDS.length, ndjson.body);
    const listed = await usersOf(locus);
    assert.deepEqual(
      listed.map((u) => [u.user_id, u.samples]).sort(),
      HOSTILE_IDS.map((id) => [id, 2]).sort(),
    );
  });

  it('stores and lists ids of 128 characters verbatim, and refuses 129', async (t) => {
    const locus = await app(t);
    for (const userId of LONG_IDS) assert.equal((await putFor(locus, userId)).statusCode, 200);
    assert.equal((await putFor(locus, 'x'.repeat(129))).statusCode, 400);
    assert.deepEqual(new Set((await usersOf(locus)).map((u) => u.user_id)), new Set(LONG_IDS));
  });

  it('reads back ids of 101 to 128 characters through their URL', async (t) => {
    const locus = await app(t);
    for (const userId of LONG_IDS) await putFor(locus, userId);
    for (const userId of LONG_IDS) {
      const response = await locus.inject(locationsUrl(userId));
      assert.equal(response.statusCode, 200, `${userId.length} characters: ${response.body.slice(0, 200)}`);
      assert.equal(response.json<{ user_id: string }>().user_id, userId);
    }
  });
}

describe('hostile user ids on SQLite', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'locus-injection-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  // A file, so that ingest runs on the writer thread's own connection as in production.
  injectionSuite(() => Promise.resolve(openSqliteStore({ path: path.join(dir, `${files++}.db`) })));
});

const server = await findTestServer();

describe('hostile user ids on PostgreSQL', { skip: server.skip }, () => {
  const databases: TestDatabase[] = [];
  after(async () => {
    await Promise.all(databases.map((db) => db.drop()));
  });
  injectionSuite(async () => {
    const db = await createTestDatabase(server.url);
    databases.push(db);
    return openPostgresStore({ url: db.url });
  });
});
