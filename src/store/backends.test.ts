import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DATABASE_URL_FORMS,
  describeDatabase,
  migrateStore,
  missingDatabase,
  openStore,
  parseDatabaseUrl,
  type DatabaseConfig,
} from './backends.js';
import { SCHEMA_VERSION } from './sqlite/sqlite-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-backends-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function parsed(url: string): DatabaseConfig {
  const result = parseDatabaseUrl(url);
  if ('problem' in result) return assert.fail(`${url}: ${result.problem}`);
  return result.config;
}

function problem(url: string): string {
  const result = parseDatabaseUrl(url);
  if ('config' in result) return assert.fail(`${url} was taken as ${JSON.stringify(result.config)}`);
  return result.problem;
}

/** Which drivers a fresh process has loaded after running `script` with the backends module as `backends`. */
function driversLoadedBy(script: string): { pg: boolean; sqlite: boolean } {
  const code = `
    import { createRequire } from 'node:module';
    const backends = await import(${JSON.stringify(new URL('./backends.ts', import.meta.url).href)});
    ${script}
    const files = Object.keys(createRequire(import.meta.url).cache);
    const loaded = (name) => files.some((file) => file.includes('/node_modules/' + name + '/'));
    console.log(JSON.stringify({ pg: loaded('pg'), sqlite: loaded('better-sqlite3') }));`;
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as { pg: boolean; sqlite: boolean };
}

describe('parseDatabaseUrl(url)', () => {
  it('hands each URL to the backend that claims its scheme', () => {
    assert.deepEqual(parsed('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
    assert.deepEqual(parsed('sqlite:relative/locus.db'), {
      kind: 'sqlite',
      path: path.resolve('relative/locus.db'),
    });
    for (const url of ['postgres://u@h/db', 'postgresql://u:p@h:5432/db?sslmode=require']) {
      assert.deepEqual(parsed(url), { kind: 'postgres', url });
    }
  });

  it('refuses a URL no backend claims, listing the forms every backend takes, without the password', () => {
    for (const url of ['mysql://u:hunter2@h/db', './locus.db', 'SQLITE:locus.db', '']) {
      const text = problem(url);
      assert.ok(text.startsWith(`must be ${DATABASE_URL_FORMS}, got `), text);
      assert.doesNotMatch(text, /hunter2/);
    }
    assert.equal(DATABASE_URL_FORMS, 'postgres://…, sqlite:FILE or sqlite::memory:');
  });

  it("passes on the claiming backend's own refusal, without the password", () => {
    assert.match(problem('sqlite:'), /needs a file path/);
    assert.match(problem('postgres:locus'), /^must be postgres:\/\//);
    assert.equal(
      problem('postgres://u:hunter2@h:port/db'),
      'is not a valid URL: "postgres://u:***@h:port/db"',
    );
  });
});

describe('describeDatabase(config)', () => {
  it('names the database for logs: the file of SQLite, the URL of PostgreSQL with its password masked', () => {
    assert.equal(describeDatabase(parsed('sqlite:///var/lib/locus.db')), 'sqlite:/var/lib/locus.db');
    assert.equal(describeDatabase(parsed('postgres://u:hunter2@h/db')), 'postgres://u:***@h/db');
  });
});

describe('missingDatabase(config)', () => {
  it('says when a SQLite file is not there, without creating it', async () => {
    const file = path.join(dir, 'absent.db');
    assert.equal(missingDatabase(parsed(`sqlite:${file}`)), `no database at ${file}`);
    assert.equal(missingDatabase(parsed(`sqlite:${file}`)), `no database at ${file}`, 'still absent');
    await (await openStore(parsed(`sqlite:${file}`))).close();
    assert.equal(missingDatabase(parsed(`sqlite:${file}`)), null);
  });

  it('is null for what cannot be missing or cannot be checked without connecting', () => {
    assert.equal(missingDatabase(parsed('sqlite::memory:')), null);
    assert.equal(missingDatabase(parsed('postgres://u@127.0.0.1:1/db')), null);
  });
});

describe('migrateStore(config)', () => {
  it('migrates a SQLite file by opening it, and says which version it is at', async () => {
    const config = parsed(`sqlite:${path.join(dir, 'migrated.db')}`);
    assert.equal(await migrateStore(config), `schema at version ${SCHEMA_VERSION}`);
    assert.equal(missingDatabase(config), null);
  });
});

describe('openStore(config)', () => {
  it('loads only the driver of the backend named: SQLite never loads pg, PostgreSQL never loads better-sqlite3', () => {
    const sqlite = driversLoadedBy(`
      const store = await backends.openStore({ kind: 'sqlite', path: ':memory:' });
      await store.close();`);
    assert.deepEqual(sqlite, { pg: false, sqlite: true });
    // Nothing listens on port 1: the store fails to open, after loading its driver.
    const postgres = driversLoadedBy(`
      await backends.openStore({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/locus' }).catch(() => {});`);
    assert.deepEqual(postgres, { pg: true, sqlite: false });
  });
});
