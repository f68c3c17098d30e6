/*
 * `locus serve` writes its log lines in blocks (src/server.ts): a line must still reach standard output while a
 * quiet server runs, within the flush interval, and every line logged must be there when the process has exited.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'locus-serve-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POINT = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

interface Served {
  child: ChildProcess;
  base: string;
  /** The log lines written to standard output so far, parsed. */
  lines: Array<Record<string, unknown>>;
}

async function serve(): Promise<Served> {
  const port = await freePort();
  // node itself with tsx's loader, not the tsx wrapper: SIGTERM must reach the server.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, `${port}.db`)}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) if (part) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`locus exited with ${child.exitCode}`);
    if (
      await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (attempt > 200) throw new Error('locus did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, base, lines };
}

function requestLines(lines: Array<Record<string, unknown>>, path: string) {
  return lines.filter((line) => line.msg === 'request' && line.path === path);
}

async function put(base: string): Promise<void> {
  const answer = await fetch(`${base}/location`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(POINT),
  });
  assert.equal(answer.status, 200);
}

it('a quiet server still writes its access line within a couple of seconds', async () => {
  const { child, base, lines } = await serve();
  try {
    await put(base);
    const deadline = Date.now() + 3000;
    while (requestLines(lines, '/location').length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(requestLines(lines, '/location').length, 1, 'the line stayed in the buffer');
    assert.equal(child.exitCode, null, 'written while the server runs, not at exit');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

it('every line logged is on standard output once the server has stopped', async () => {
  const { child, base, lines } = await serve();
  const puts = 20;
  for (let i = 0; i < puts; i++) await put(base);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.equal(requestLines(lines, '/location').length, puts);
  assert.ok(lines.some((line) => line.msg === 'shutting down'));
});
