import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { stringify } from 'csv-stringify/sync';
import { runSimulate, type SimulateFlags } from '../../src/cli/simulate.js';
import { generateTrace } from '../../src/tools/generate/trace.js';
import { newSecret } from '../../src/auth/tokens.js';
import { build } from '../support/app.js';
import { freePort } from '../support/ports.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-simulate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function traceFile(name: string, seed: number): string {
  const rows = [...generateTrace({ seed, users: 3, minutes: 20, scenario: 'zones' })];
  const file = path.join(dir, name);
  writeFileSync(file, stringify(rows, { header: true }));
  return file;
}

async function listening(t: TestContext): Promise<string> {
  const { app } = await build(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function run(
  files: string[],
  flags: Partial<SimulateFlags> & { api: string },
  env: NodeJS.ProcessEnv = {},
) {
  let out = '';
  let err = '';
  const code = await runSimulate(
    files,
    { mode: 'put', batchSize: 1000, concurrency: 1, ...flags },
    { out: (text) => (out += text), err: (text) => (err += text), env },
  );
  return { code, out, err };
}

describe('locus simulate', () => {
  it('replays traces and verifies the minute averages exactly', async (t) => {
    const api = await listening(t);
    const files = [traceFile('one.csv', 1), traceFile('two.csv', 2)];
    const result = await run(files, { api, concurrency: 4, verify: true });
    assert.equal(result.code, 0, result.out + result.err);
    assert.match(result.out, /^stored +\d+$/m);
    assert.match(result.out, /^duplicates +[1-9]\d*$/m);
    assert.match(result.out, /^errors +0$/m);
    assert.match(result.out, /^latency +p50 [\d.]+ ms, p99 [\d.]+ ms$/m);
    assert.match(result.out, /^verify +OK: \d+ minutes of 3 users, 0 difference\(s\)$/m);
  });

  it('replays in batches through POST /locations with the same exact result', async (t) => {
    const api = await listening(t);
    const result = await run([traceFile('batch.csv', 6)], {
      api,
      mode: 'batch',
      batchSize: 100,
      concurrency: 3,
      verify: true,
    });
    assert.equal(result.code, 0, result.out + result.err);
    assert.match(result.out, /^duplicates +[1-9]\d*$/m);
    assert.match(result.out, /^verify +OK: \d+ minutes of 3 users, 0 difference\(s\)$/m);
  });

  it('reports differences and exits 1 when the server holds other data', async (t) => {
    const api = await listening(t);
    const file = traceFile('three.csv', 3);
    assert.equal((await run([file], { api })).code, 0);
    const other = path.join(dir, 'other.csv');
    // Same users and minutes, different first copies: the server keeps what it had, so verify must notice.
    writeFileSync(
      other,
      stringify([...generateTrace({ seed: 4, users: 3, minutes: 20, scenario: 'zones' })], { header: true }),
    );
    const result = await run([other], { api, verify: true });
    assert.equal(result.code, 1);
    assert.match(result.out, /^difference +u\d /m);
    assert.match(result.out, /^verify +FAILED/m);
  });

  it('stops with one line, no stack, when the server is unreachable', async () => {
    const api = `http://127.0.0.1:${await freePort()}`;
    const result = await run([traceFile('four.csv', 5)], { api });
    assert.equal(result.code, 2);
    assert.match(result.err, /^locus simulate: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*\n$/);
  });

  it('stops with one line when a file cannot be read', async () => {
    const result = await run([path.join(dir, 'missing.csv')], { api: 'http://127.0.0.1:1' });
    assert.equal(result.code, 2);
    assert.match(result.err, /^locus simulate: cannot read .*missing\.csv/);
  });

  it('sends --token or LOCUS_TOKEN as a Bearer token, and verifies with it, when the server has AUTH=on', async (t) => {
    const { app, store } = await build(t, { auth: { required: true } });
    const secret = newSecret();
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: null,
      scope: 'admin',
      label: null,
      createdMs: 0,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const api = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const flag = await run([traceFile('token.csv', 7)], { api, token: secret.token, verify: true });
    assert.equal(flag.code, 0, flag.out + flag.err);
    assert.match(flag.out, /^verify +OK/m);
    const env = await run(
      [traceFile('env-token.csv', 8)],
      { api, mode: 'batch' },
      { LOCUS_TOKEN: secret.token },
    );
    assert.equal(env.code, 0, env.out + env.err);
    assert.match(env.out, /^stored +[1-9]\d*$/m);
  });

  it('stops at the first 401 or 403 with one line, instead of sending every row into it', async (t) => {
    for (const [status, token, hint] of [
      [401, undefined, /give --token or LOCUS_TOKEN/],
      [401, 'locus_wrong', /the token is not valid/],
      [403, 'locus_user', /only send its own user/],
    ] as const) {
      let requests = 0;
      const server = createServer((request, response) => {
        if (request.url === '/healthz') return void response.end('{"status":"ok"}');
        requests++;
        request.resume();
        response.writeHead(status, { 'content-type': 'application/problem+json' });
        response.end(JSON.stringify({ title: status === 401 ? 'Unauthorized' : 'Forbidden', status }));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      t.after(() => server.close());
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await run([traceFile(`refused-${status}.csv`, 9)], { api, concurrency: 4, token });
      assert.equal(result.code, 2, result.out + result.err);
      assert.equal(result.out, '', 'no summary of a replay that did not happen');
      assert.match(result.err, new RegExp(`^locus simulate: the server answered ${status}: `));
      assert.match(result.err, hint);
      assert.equal(result.err.trimEnd().split('\n').length, 1, result.err);
      assert.ok(requests <= 4, `${requests} requests after the first refusal`);
    }
  });

  it('refuses a token that cannot be one (not ASCII) before sending anything', async () => {
    const result = await run([traceFile('accented.csv', 10)], {
      api: 'http://127.0.0.1:1',
      token: 'locus_é',
    });
    assert.equal(result.code, 2);
    assert.match(result.err, /^locus simulate: --token is not a valid token/);
  });
});
