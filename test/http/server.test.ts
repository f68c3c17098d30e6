import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { freePort } from '../support/ports.js';

async function readyz(settings: Parameters<typeof loadConfig>[0]) {
  const server = await startServer(
    loadConfig({
      DATABASE_URL: 'sqlite::memory:',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...settings,
    }),
  );
  try {
    const { port } = server.app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: response.status, body: (await response.json()) as { type?: string; detail?: string } };
  } finally {
    await server.close();
  }
}

describe('startServer', () => {
  it('is ready with the store alone when no MQTT broker is configured', async () => {
    assert.equal((await readyz({})).status, 200);
  });

  it('is not ready while the configured MQTT broker cannot be reached, and still shuts down', async () => {
    const { status, body } = await readyz({ MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` });
    assert.equal(status, 503);
    assert.equal(body.type, '/problems/not-ready');
    assert.match(body.detail ?? '', /MQTT broker/);
  });
});
