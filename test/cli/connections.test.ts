/*
 * A connection flood against the real server under a low file limit (`ulimit -n`): more idle connections than the
 * process may have descriptors. Locus refuses those beyond its bound, keeps running, and answers once they go.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectionBound, softFileLimit } from '../../src/server.js';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'locus-connections-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FILE_LIMIT = 256;
const SOCKETS = 400;

/** `locus serve` with a soft file limit of `FILE_LIMIT`, through a shell's ulimit. */
function serveLimited(port: number): ChildProcess {
  const command = `ulimit -n ${FILE_LIMIT} && exec "$0" --import tsx "$1" serve`;
  return spawn('bash', ['-c', command, process.execPath, MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, `locus-${port}.db`)}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The status of GET `url` on a connection of its own; null when there is no answer. */
function status(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? null));
      response.on('error', () => resolve(null));
    });
    request.on('error', () => resolve(null));
    request.setTimeout(10_000, () => request.destroy());
  });
}

/** Retries GET `url` until it answers 200; throws when the process exits first, or after many tries. */
async function until200(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`locus exited (${child.exitCode ?? child.signalCode})`);
    }
    if ((await status(url)) === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} never answered 200`);
}

/** An idle connection, once it is open (or already closed); `onClose` when it closes. */
function idleConnection(port: number, onClose: () => void): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => {
      onClose();
      resolve(socket);
    });
  });
}

describe('connection flood', () => {
  it('reads the soft file limit and leaves a reserve below it', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max open files            1024                 524288               files     \n';
    assert.equal(softFileLimit(limits), 1024);
    assert.equal(softFileLimit(limits.replace('1024 ', 'unlimited ')), null);
    assert.equal(softFileLimit(''), null);
    assert.equal(connectionBound(1024), 960);
    assert.equal(connectionBound(20), 16);
    assert.equal(connectionBound(null), null);
    // This process's own limit, read from /proc (Linux).
    if (process.platform === 'linux') assert.ok((softFileLimit() ?? 0) > 0);
  });

  it(`survives ${SOCKETS} idle connections under ulimit -n ${FILE_LIMIT}, and answers once they close`, async () => {
    const port = await freePort();
    const child = serveLimited(port);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      await until200(`http://127.0.0.1:${port}/readyz`, child);

      // Connections beyond the bound are accepted and closed by the server at once; wait until they are.
      const beyond = SOCKETS - (connectionBound(FILE_LIMIT) ?? 0);
      let closed = 0;
      let allRefused = () => {};
      const refused = new Promise<void>((resolve) => (allRefused = resolve));
      const sockets = await Promise.all(
        Array.from({ length: SOCKETS }, () =>
          idleConnection(port, () => {
            if (++closed === beyond) allRefused();
          }),
        ),
      );
      const outcome = await Promise.race([
        refused.then(() => 'refused' as const),
        exited.then(() => 'exited' as const),
        sleep(60_000).then(() => 'timed out' as const),
      ]);
      assert.equal(outcome, 'refused', `${closed} of ${beyond} connections closed; output:\n${output}`);
      // Hold them across a few samples of the event-loop delay (once a second): the old sampler's
      // process.memoryUsage() threw EMFILE from its timer and ended the process then.
      await Promise.race([exited, sleep(3500)]);
      assert.equal(child.exitCode, null, `locus exited while flooded:\n${output}`);
      assert.equal(child.signalCode, null, `locus was killed while flooded:\n${output}`);

      for (const socket of sockets) socket.destroy();
      await until200(`http://127.0.0.1:${port}/healthz`, child);
      assert.doesNotMatch(output, /EMFILE/, output);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null && child.signalCode === null) await exited;
    }
  });
});
