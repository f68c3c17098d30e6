import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseRetention } from './config.js';

function problem(settings: Parameters<typeof loadConfig>[0]): string {
  try {
    loadConfig(settings);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to port 5000 on all interfaces with SQLite in ./data', () => {
    assert.deepEqual(loadConfig({}), {
      port: 5000,
      host: '0.0.0.0',
      database: { kind: 'sqlite', path: path.resolve('data/locus.db') },
      databaseUrl: 'sqlite:./data/locus.db',
      logLevel: 'info',
      retentionMs: null,
    });
  });

  it('reads every setting', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite:///var/lib/locus/locus.db',
      LOG_LEVEL: 'warn',
      DEDUPE_RETENTION: '30d',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.database, { kind: 'sqlite', path: '/var/lib/locus/locus.db' });
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.retentionMs, 30 * 86_400_000);
  });

  it('accepts an in-memory database', () =>
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database, {
      kind: 'sqlite',
      path: ':memory:',
    }));

  for (const [settings, variable] of [
    [{ PORT: 'http' }, 'PORT'],
    [{ PORT: '65536' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ HOST: ' ' }, 'HOST'],
    [{ DATABASE_URL: 'mysql://localhost/locus' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://postgres@127.0.0.1/locus' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ DEDUPE_RETENTION: '30' }, 'DEDUPE_RETENTION'],
    [{ DEDUPE_RETENTION: '0d' }, 'DEDUPE_RETENTION'],
  ] as const) {
    it(`stops on ${JSON.stringify(settings)} naming ${variable}`, () => {
      assert.match(problem(settings), new RegExp(`^${variable}: `));
    });
  }
});

describe('parseRetention', () => {
  it('reads hours and days, and off', () => {
    assert.equal(parseRetention('72h'), 72 * 3_600_000);
    assert.equal(parseRetention('1d'), 86_400_000);
    assert.equal(parseRetention('off'), null);
  });
});
