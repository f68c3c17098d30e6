import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseRateLimit, parseRetention } from './config.js';

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
      mqttUrl: null,
      owntracksUserId: 'user',
      tileUrl: null,
      tileAttribution: null,
      auth: false,
      rateLimit: null,
      corsOrigins: [],
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

  for (const url of [
    'postgres://postgres@127.0.0.1:5432/locus',
    'postgresql://locus:secret@db.internal/locus?sslmode=require',
    'postgres:///locus?host=/var/run/postgresql',
  ]) {
    it(`accepts the PostgreSQL URL ${url}, keeping it whole for the driver`, () => {
      assert.deepEqual(loadConfig({ DATABASE_URL: url }).database, { kind: 'postgres', url });
    });
  }

  it('masks the password of a PostgreSQL URL in databaseUrl, which is what gets logged', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://locus:s3cr%40t@db:5432/locus' });
    assert.equal(config.databaseUrl, 'postgres://locus:***@db:5432/locus');
  });

  for (const [settings, variable] of [
    [{ PORT: 'http' }, 'PORT'],
    [{ PORT: '65536' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ HOST: ' ' }, 'HOST'],
    [{ DATABASE_URL: 'mysql://localhost/locus' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://host:port/locus' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres:locus' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ DEDUPE_RETENTION: '30' }, 'DEDUPE_RETENTION'],
    [{ DEDUPE_RETENTION: '0d' }, 'DEDUPE_RETENTION'],
    [{ MQTT_URL: 'localhost:1883' }, 'MQTT_URL'],
    [{ MQTT_URL: 'http://broker:1883' }, 'MQTT_URL'],
    [{ OWNTRACKS_USER_ID: 'device' }, 'OWNTRACKS_USER_ID'],
    [{ TILE_URL: 'https://tiles.example.org/map.png' }, 'TILE_URL'],
    [{ TILE_URL: 'ftp://tiles.example.org/{z}/{x}/{y}.png' }, 'TILE_URL'],
  ] as const) {
    it(`stops on ${JSON.stringify(settings)} naming ${variable}`, () => {
      assert.match(problem(settings), new RegExp(`^${variable}: `));
    });
  }
});

// How a password is masked is tested beside redactDatabaseUrl, in src/store/database-url.test.ts.
describe('redactDatabaseUrl', () => {
  it('never shows the password of a URL it refuses', () => {
    assert.doesNotMatch(problem({ DATABASE_URL: 'mysql://u:hunter2@h/db' }), /hunter2/);
  });
});

describe('MQTT settings', () => {
  it('takes a broker URL and the OwnTracks user id mode', () => {
    const config = loadConfig({ MQTT_URL: 'mqtts://u:p@broker:8883', OWNTRACKS_USER_ID: 'user/device' });
    assert.equal(config.mqttUrl, 'mqtts://u:p@broker:8883');
    assert.equal(config.owntracksUserId, 'user/device');
  });
  it('treats off as no MQTT', () => assert.equal(loadConfig({ MQTT_URL: 'off' }).mqttUrl, null));
});

describe('TILE_URL', () => {
  it('takes an http(s) template with {z}, {x} and {y}', () => {
    const config = loadConfig({
      TILE_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
      TILE_ATTRIBUTION: '© us',
    });
    assert.equal(config.tileUrl, 'https://{s}.tile.example.org/{z}/{x}/{y}.png');
    assert.equal(config.tileAttribution, '© us');
  });
});

describe('parseRetention', () => {
  it('reads hours and days, and off', () => {
    assert.equal(parseRetention('72h'), 72 * 3_600_000);
    assert.equal(parseRetention('1d'), 86_400_000);
    assert.equal(parseRetention('off'), null);
  });
});

describe('AUTH', () => {
  it('is off by default, and on or off when set', () => {
    assert.equal(loadConfig({}).auth, false);
    assert.equal(loadConfig({ AUTH: 'on' }).auth, true);
    assert.equal(loadConfig({ AUTH: 'off' }).auth, false);
  });

  it('refuses anything but on and off with one line naming it', () => {
    for (const text of ['yes', 'true', '1', 'ON', ' on']) {
      assert.equal(problem({ AUTH: text }), `AUTH: must be on or off, got ${JSON.stringify(text)}`);
    }
  });
});

describe('RATE_LIMIT', () => {
  it('is off by default', () => {
    assert.equal(loadConfig({}).rateLimit, null);
    assert.equal(loadConfig({ RATE_LIMIT: 'off' }).rateLimit, null);
  });

  it('reads requests per second, minute or hour', () => {
    assert.deepEqual(parseRateLimit('600/min'), { max: 600, windowMs: 60_000 });
    assert.deepEqual(parseRateLimit('10/s'), { max: 10, windowMs: 1000 });
    assert.deepEqual(parseRateLimit('5000/h'), { max: 5000, windowMs: 3_600_000 });
    assert.deepEqual(loadConfig({ RATE_LIMIT: '1/s' }).rateLimit, { max: 1, windowMs: 1000 });
  });

  it('refuses other forms with one line naming it', () => {
    for (const text of ['600', '0/min', '600/m', '600/minute', '-1/s', '1.5/s', '600 / min', 'on', '/min']) {
      assert.match(
        problem({ RATE_LIMIT: text }),
        /^RATE_LIMIT: must be off, or requests per s, min or h like 600\/min/,
      );
    }
  });
});

describe('CORS_ORIGINS', () => {
  it('is empty (no cross-origin access) by default', () => {
    assert.deepEqual(loadConfig({}).corsOrigins, []);
    assert.deepEqual(loadConfig({ CORS_ORIGINS: '' }).corsOrigins, []);
  });

  it('reads a comma-separated list of origins', () => {
    assert.deepEqual(
      loadConfig({ CORS_ORIGINS: 'https://app.example.org, http://localhost:3000' }).corsOrigins,
      ['https://app.example.org', 'http://localhost:3000'],
    );
  });

  it('refuses what is not an origin with one line naming it', () => {
    for (const text of ['app.example.org', 'https://app.example.org/', 'https://app.example.org/path', '*']) {
      assert.match(
        problem({ CORS_ORIGINS: text }),
        /^CORS_ORIGINS: must be a comma-separated list of origins/,
      );
    }
  });
});
