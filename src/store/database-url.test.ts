import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactDatabaseUrl, schemeOf } from './database-url.js';

describe('redactDatabaseUrl', () => {
  it('masks a password in the user part or in a password parameter, and leaves the rest alone', () => {
    assert.equal(redactDatabaseUrl('postgres://u:p@h/db'), 'postgres://u:***@h/db');
    assert.equal(redactDatabaseUrl('postgres://u@h/db?password=p&x=1'), 'postgres://u@h/db?password=***&x=1');
    assert.equal(redactDatabaseUrl('postgres://u@h/db'), 'postgres://u@h/db');
    assert.equal(redactDatabaseUrl('sqlite:./data/locus.db'), 'sqlite:./data/locus.db');
  });
});

describe('schemeOf', () => {
  it('reads the scheme of a URL with or without an authority, and null when there is none', () => {
    assert.equal(schemeOf('postgresql://u@h/db'), 'postgresql');
    assert.equal(schemeOf('sqlite::memory:'), 'sqlite');
    assert.equal(schemeOf('sqlite:./data/locus.db'), 'sqlite');
    assert.equal(schemeOf('./data/locus.db'), null);
    assert.equal(schemeOf(''), null);
  });
});
