import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Command, CommanderError } from 'commander';
import { tokenCommand } from '../../src/cli/token.js';
import { buildApp } from '../../src/http/app.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const VALID_POINT = {
  timestamp: '2017-01-01T18:05:12Z',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'locus-token-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let databases = 0;
function newDatabase(): { path: string; url: string } {
  const path = join(dir, `locus-${++databases}.db`);
  return { path, url: `sqlite:${path}` };
}

/** Every command of the tree throws instead of exiting, and writes its errors to `onError`. */
function contained(command: Command, onError: (text: string) => void): Command {
  command.exitOverride().configureOutput({ writeErr: onError, writeOut: onError });
  for (const sub of command.commands) contained(sub, onError);
  return command;
}

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs `locus token ARGS` in-process against `url`; rejects with the CommanderError on failure. */
async function run(url: string, args: string[], now = Date.UTC(2024, 0, 2, 3, 4, 5)): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const command = contained(
    tokenCommand({
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: { DATABASE_URL: url },
      now: () => now,
    }),
    (text) => (stderr += text),
  );
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw Object.assign(error, { stderr });
    throw error;
  }
  return { stdout, stderr };
}

/** PUT /location of `user_id` with `token`, answered by an app with authentication on over the same file. */
async function putWith(path: string, token: string, userId = 'a1'): Promise<number> {
  const store = openSqliteStore({ path });
  const app = await buildApp({ store, auth: { required: true } });
  try {
    const response = await app.inject({
      method: 'PUT',
      url: '/location',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: JSON.stringify({ ...VALID_POINT, user_id: userId }),
    });
    return response.statusCode;
  } finally {
    await app.close();
    await store.close();
  }
}

describe('locus token (in-process)', () => {
  it('create prints a new token once, on its own line, and it works against an app on the same file', async () => {
    const { path, url } = newDatabase();
    const created = await run(url, ['create', '--user', 'a1', '--label', 'phone']);
    assert.match(created.stdout, /^locus_[A-Za-z0-9_-]{43}\n$/);
    assert.match(created.stderr, /token [0-9a-f]{12} for user "a1" created\. It is shown only this once/);
    const token = created.stdout.trim();
    assert.equal(await putWith(path, token), 200);
    assert.equal(await putWith(path, token, 'b2'), 403);
    assert.equal(await putWith(path, `${token}x`), 401);
  });

  it('stores only the hash of the token', async () => {
    const { path, url } = newDatabase();
    const token = (await run(url, ['create', '--user', 'a1'])).stdout.trim();
    const file = await readFile(path);
    const wal = await readFile(`${path}-wal`).catch(() => Buffer.alloc(0));
    assert.equal(Buffer.concat([file, wal]).includes(token), false);
  });

  it('list shows id, user, scope, label, created and revoked, never the token', async () => {
    const { url } = newDatabase();
    const userToken = (await run(url, ['create', '--user', 'a1', '--label', 'phone'])).stdout.trim();
    const later = Date.UTC(2024, 0, 2, 3, 4, 6);
    const adminToken = (await run(url, ['create', '--admin', '--label', 'ops'], later)).stdout.trim();
    const { stdout } = await run(url, ['list']);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ID +USER +SCOPE +LABEL +CREATED +REVOKED$/);
    assert.match(lines[1] ?? '', /^[0-9a-f]{12} +a1 +user +phone +2024-01-02T03:04:05Z +-$/);
    assert.match(lines[2] ?? '', /^[0-9a-f]{12} +\* +admin +ops +2024-01-02T03:04:06Z +-$/);
    assert.equal(lines.length, 3);
    assert.equal(stdout.includes(userToken) || stdout.includes(adminToken), false);
  });

  it('an admin token writes any user', async () => {
    const { path, url } = newDatabase();
    const token = (await run(url, ['create', '--admin'])).stdout.trim();
    assert.equal(await putWith(path, token, 'anyone'), 200);
  });

  it('revoke ID marks the token revoked in the list, and an app started afterwards refuses it', async () => {
    const { path, url } = newDatabase();
    const token = (await run(url, ['create', '--user', 'a1'])).stdout.trim();
    const id = /^([0-9a-f]{12})/m.exec((await run(url, ['list'])).stdout.split('\n')[1] ?? '')?.[1] ?? '';
    const revoked = await run(url, ['revoke', id], Date.UTC(2024, 5, 1));
    assert.match(revoked.stderr, new RegExp(`token ${id} revoked`));
    assert.match((await run(url, ['list'])).stdout, /2024-06-01T00:00:00Z/);
    assert.equal(await putWith(path, token), 401);
  });

  it('refuses to revoke an unknown id, with exit code 1', async () => {
    const { url } = newDatabase();
    await assert.rejects(
      run(url, ['revoke', 'nope']),
      (error: CommanderError & { stderr: string }) =>
        error.exitCode === 1 && /there is no token "nope"/.test(error.stderr),
    );
  });

  it('create refuses no user, both --user and --admin, and a user id that is not one', async () => {
    const { url } = newDatabase();
    const refused = (args: string[], message: RegExp) =>
      assert.rejects(
        run(url, args),
        (error: CommanderError & { stderr: string }) => error.exitCode === 1 && message.test(error.stderr),
      );
    await refused(['create'], /give --user <id> \(or --admin/);
    await refused(['create', '--user', 'a1', '--admin'], /not both/);
    await refused(['create', '--user', ''], /--user must be 1–128 characters/);
    await refused(['create', '--user', 'x'.repeat(129)], /--user must be 1–128 characters/);
    await refused(['create', '--user', 'a\u0007b'], /no control characters/);
    assert.equal((await run(url, ['list'])).stdout.trimEnd().split('\n').length, 1, 'nothing was created');
  });

  it('takes --database-url over DATABASE_URL', async () => {
    const first = newDatabase();
    const second = newDatabase();
    await run(first.url, ['create', '--user', 'a1', '--database-url', second.url]);
    assert.equal((await run(first.url, ['list'])).stdout.trimEnd().split('\n').length, 1);
    assert.equal((await run(second.url, ['list'])).stdout.trimEnd().split('\n').length, 2);
  });
});

describe('a server started with AUTH=on and RATE_LIMIT', () => {
  it('takes the printed token, refuses requests without one, and limits each token', async () => {
    const { url } = newDatabase();
    const token = (await run(url, ['create', '--user', 'a1'])).stdout.trim();
    const { loadConfig } = await import('../../src/config.js');
    const { startServer } = await import('../../src/server.js');
    const config = loadConfig({
      DATABASE_URL: url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      AUTH: 'on',
      RATE_LIMIT: '2/min',
    });
    const server = await startServer(config);
    try {
      const { port } = server.app.server.address() as AddressInfo;
      const put = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/location`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(VALID_POINT),
        });
      assert.equal((await put({})).status, 401);
      assert.equal((await put({ authorization: `Bearer ${token}` })).status, 200);
      assert.equal((await put({ authorization: `Bearer ${token}` })).status, 200);
      const limited = await put({ authorization: `Bearer ${token}` });
      assert.equal(limited.status, 429);
      assert.ok(limited.headers.get('retry-after'));
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

/** The CLI as users run it; only once src/cli/main.ts has `tokenCommand()`. */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'token', ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('locus token (the real CLI)', () => {
  it('create, list, revoke against a SQLite file, and the printed token works', async (t: TestContext) => {
    const main = await readFile('src/cli/main.ts', 'utf8');
    if (!main.includes('tokenCommand')) {
      t.skip('src/cli/main.ts does not add tokenCommand() yet');
      return;
    }
    const { path, url } = newDatabase();
    const created = await cli(['create', '--user', 'a1', '--label', 'phone'], { DATABASE_URL: url });
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.equal(await putWith(path, token), 200);
    const listed = await cli(['list', '--database-url', url], {});
    assert.equal(listed.code, 0, listed.stderr);
    const id = /^([0-9a-f]{12}) +a1 +user +phone/m.exec(listed.stdout)?.[1];
    assert.ok(id, listed.stdout);
    assert.equal(listed.stdout.includes(token), false);
    const revoked = await cli(['revoke', id], { DATABASE_URL: url });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(await putWith(path, token), 401);
    const unknown = await cli(['revoke', 'nope'], { DATABASE_URL: url });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /there is no token "nope"/);
  });
});
