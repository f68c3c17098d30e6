import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { VALID_POINT } from '../support/points.js';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

function locus(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  // node itself with tsx's loader, so signals reach the server rather than a wrapper process.
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`locus exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('locus did not become ready in 20 s');
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('locus serve', () => {
  for (const [env, variable] of [
    [{ PORT: 'abc' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ] as const) {
    it(`stops with one line naming ${variable} when it is invalid`, async () => {
      const { code, stderr } = await finished(locus(['serve'], env));
      assert.equal(code, 2);
      assert.match(stderr, new RegExp(`^locus: ${variable}: .+\\n$`));
    });
  }

  it('a flag wins over the environment, and a bad flag is named as the flag (#14)', async () => {
    const { code, stderr } = await finished(locus(['serve', '--port', 'nope'], { PORT: '5000' }));
    assert.equal(code, 2);
    assert.match(stderr, /^locus: --port: .*"nope"/);
  });

  it('serves, shuts down cleanly on SIGTERM, and keeps the data across a restart', async () => {
    const env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}`,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
    };
    const url = `http://127.0.0.1:${env.PORT}`;
    const point = {
      timestamp: '2017-01-01 13:05:12',
      lat: 40.701,
      long: -73.916,
      accuracy: 11.3,
      speed: 1.4,
      user_id: 'a1',
    };
    const put = () =>
      fetch(`${url}/location`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(point),
      }).then((r) => r.json() as Promise<{ status: string }>);

    const first = locus(['serve'], env);
    const firstExit = finished(first);
    await waitUntilReady(url, first);
    const firstAnswer = await put();
    assert.equal(firstAnswer.status, 'stored', JSON.stringify(firstAnswer));
    first.kill('SIGTERM');
    assert.equal((await firstExit).code, 0);

    const second = locus(['serve'], env);
    const secondExit = finished(second);
    await waitUntilReady(url, second);
    assert.equal((await put()).status, 'duplicate');
    const users = (await (await fetch(`${url}/users`)).json()) as { users: Array<{ samples: number }> };
    assert.equal(users.users[0]?.samples, 1);
    second.kill('SIGTERM');
    assert.equal((await secondExit).code, 0);
  });
});

/** The JSON lines a child writes to standard output, parsed as they arrive. */
function logLines(child: ChildProcess): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) if (part) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  return lines;
}

// Log lines go out in blocks (src/server.ts): a quiet server's lines must still arrive while it runs, and every
// line logged must be out once it has exited.
describe('locus serve logs', () => {
  async function serveWithLogs() {
    const port = await freePort();
    const child = locus(['serve'], {
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, `logs-${port}.db`)}`,
    });
    const lines = logLines(child);
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, child);
    const put = async () => {
      const answer = await fetch(`${url}/location`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(VALID_POINT),
      });
      assert.equal(answer.status, 200);
    };
    const putLines = () => lines.filter((line) => line.msg === 'request' && line.path === '/location');
    return { child, lines, put, putLines };
  }

  it("writes a quiet server's access line within a couple of seconds, while it runs", async () => {
    const { child, put, putLines } = await serveWithLogs();
    const exit = finished(child);
    await put();
    const deadline = Date.now() + 3000;
    while (putLines().length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(putLines().length, 1, 'the line stayed in the buffer');
    assert.equal(child.exitCode, null, 'written while the server runs, not at exit');
    child.kill('SIGTERM');
    assert.equal((await exit).code, 0);
  });

  it('has written every line logged once it has stopped', async () => {
    const { child, lines, put, putLines } = await serveWithLogs();
    const exit = finished(child);
    const puts = 20;
    for (let i = 0; i < puts; i++) await put();
    child.kill('SIGTERM');
    assert.equal((await exit).code, 0);
    assert.equal(putLines().length, puts);
    assert.ok(lines.some((line) => line.msg === 'shutting down'));
  });
});
