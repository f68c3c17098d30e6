import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { build, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';

/** Reads server-sent events from `response` until `count` `users` events have come. */
function usersEvents(
  response: IncomingMessage,
  count: number,
): Promise<Array<{ users: Array<{ user_id: string; samples: number }> }>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const events: Array<{ users: Array<{ user_id: string; samples: number }> }> = [];
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^event: users\ndata: (.*)$/m.exec(block)?.[1];
        if (data) events.push(JSON.parse(data) as (typeof events)[number]);
        if (events.length === count) resolve(events);
      }
    });
    response.on('error', reject);
  });
}

describe('GET /events', () => {
  it('sends the user list on connect and again when it changes, and lets the server close', async (t) => {
    const { app } = await build(t, { dashboard: { liveIntervalMs: 50 } });
    await put(app, VALID_POINT);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const response = await new Promise<IncomingMessage>((resolve) =>
      get({ port, host: '127.0.0.1', path: '/events' }, resolve),
    );
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
    const events = usersEvents(response, 2);
    await new Promise((resolve) => setTimeout(resolve, 120)); // a poll that finds nothing new sends nothing
    await put(app, { ...VALID_POINT, timestamp: '2017-01-01 13:06:00' });
    const [first, second] = await events;
    assert.deepEqual(
      first?.users.map((u) => [u.user_id, u.samples]),
      [['a1', 1]],
    );
    assert.deepEqual(
      second?.users.map((u) => [u.user_id, u.samples]),
      [['a1', 2]],
    );
    const ended = new Promise((resolve) => response.on('end', resolve));
    await app.close(); // would hang if the open stream kept the server waiting
    await ended;
  });
});
