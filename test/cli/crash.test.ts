import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateTrace, type TraceRow } from '../../src/tools/generate/trace.js';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'locus-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PORT = String(await freePort());
const URL_BASE = `http://127.0.0.1:${PORT}`;

function startLocus(): ChildProcess {
  // node itself with tsx's loader, not the tsx wrapper: SIGKILL must hit the server, and a wrapper cannot relay it.
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT,
      DATABASE_URL: `sqlite:${dir}/locus.db`,
    },
    stdio: 'ignore',
  });
}

async function ready(child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`locus exited with ${child.exitCode}`);
    const ok = await fetch(`${URL_BASE}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('locus did not become ready');
}

async function put(row: TraceRow): Promise<string | null> {
  try {
    const response = await fetch(`${URL_BASE}/location`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(row),
    });
    return response.ok ? ((await response.json()) as { status: string }).status : null;
  } catch {
    return null; // the process died under this request: no answer, no promise made
  }
}

/** Sends rows from `connections` concurrent loops; returns the answer per row index (null: none). */
async function sendAll(
  rows: TraceRow[],
  connections: number,
  onAnswer: (answered: number) => void = () => {},
): Promise<Array<string | null>> {
  const answers = new Array<string | null>(rows.length).fill(null);
  let next = 0;
  let answered = 0;
  const worker = async () => {
    for (let i = next++; i < rows.length; i = next++) {
      answers[i] = await put(rows[i] as TraceRow);
      onAnswer(++answered);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return answers;
}

/** One copy per (user, wall time): the points are unique, so the final aggregates do not depend on which arrived. */
function uniquePoints(): TraceRow[] {
  const seen = new Set<string>();
  return [...generateTrace({ seed: 3, users: 40, minutes: 120 })].filter((row) => {
    const key = `${row.user_id}|${row.timestamp}`;
    return !seen.has(key) && seen.add(key) !== undefined;
  });
}

describe('kill -9 under load', () => {
  it('keeps every point answered stored, counts nothing twice, and ends exact after a resend', async () => {
    const rows = uniquePoints();
    assert.ok(rows.length > 10_000, `${rows.length} points`);

    const first = startLocus();
    await ready(first);
    const exited = once(first, 'exit');
    // A few thousand points through, then the plug is pulled mid-stream.
    const answers = await sendAll(rows, 48, (answered) => answered === 4000 && first.kill('SIGKILL'));
    await exited;
    const acknowledged = answers.filter((a) => a === 'stored').length;
    assert.ok(acknowledged > 0, 'some points were answered before the kill');
    assert.ok(
      answers.some((a) => a === null),
      'the kill happened mid-stream',
    );

    const second = startLocus();
    try {
      await ready(second);
      const afterRestart = await sendAll(rows, 48);
      rows.forEach((row, i) => {
        if (answers[i] === 'stored') {
          assert.equal(afterRestart[i], 'duplicate', `acknowledged point lost: ${JSON.stringify(row)}`);
        }
      });
      assert.ok(afterRestart.every((a) => a === 'stored' || a === 'duplicate'));
      const users = (await (await fetch(`${URL_BASE}/users`)).json()) as {
        users: Array<{ samples: number }>;
      };
      const samples = users.users.reduce((sum, u) => sum + u.samples, 0);
      assert.equal(samples, rows.length, 'every point counted exactly once');
    } finally {
      second.kill('SIGTERM');
      await once(second, 'exit');
    }
  });
});
