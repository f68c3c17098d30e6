import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { build } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { lines, logger: { level: 'info', stream } };
}

describe('request logs', () => {
  it('write one JSON line per request with the client request id, method, path, status and time', async (t) => {
    const { lines, logger } = captured();
    const { app } = await build(t, { logger });
    await app.inject({
      method: 'PUT',
      url: '/location?token=s3cret',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-42' },
      payload: JSON.stringify(VALID_POINT),
    });
    const requests = lines.filter((line) => line.msg === 'request');
    assert.equal(requests.length, 1);
    const [line] = requests;
    assert.equal(line?.reqId, 'client-42');
    assert.equal(line?.method, 'PUT');
    assert.equal(line?.path, '/location');
    assert.equal(line?.status, 200);
    assert.equal(typeof line?.ms, 'number');
    assert.doesNotMatch(JSON.stringify(lines), /s3cret|40\.701/, 'no query strings or bodies in logs');
  });

  it('stay quiet below their level', async (t) => {
    const { lines } = captured();
    const { app } = await build(t, {
      logger: { level: 'warn', stream: new Writable({ write: (_c, _e, cb) => cb() }) },
    });
    await app.inject('/healthz');
    assert.equal(lines.length, 0);
  });
});
