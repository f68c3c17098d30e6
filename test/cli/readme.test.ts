import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/*
 * #14 item 15: `npm run locus -- generate > f.csv` puts npm's `> locus@… locus` banner into the CSV. The README's
 * command lines must use a form whose standard output is the command's alone.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const dir = mkdtempSync(path.join(tmpdir(), 'locus-readme-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function output(command: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('the README runs the CLI in a form that keeps npm out of its output', () => {
  it('never shows `npm run locus` without --silent', () => {
    const bare = README.split('\n').filter((line) => /npm run locus\b/.test(line));
    assert.deepEqual(bare, [], 'these lines would put npm’s banner on standard output');
    assert.match(README, /npm run --silent locus -- generate [^\n]*> trace\.csv/);
  });

  it('`npm run --silent locus -- generate` writes exactly the CSV to standard output', async () => {
    const args = ['generate', '--users', '1', '--minutes', '2'];
    const { code, stdout } = await output('npm', ['run', '--silent', 'locus', '--', ...args]);
    assert.equal(code, 0);
    assert.match(stdout, /^timestamp,lat,long,accuracy,speed,user_id\n/);
    const direct = await output(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
    assert.equal(stdout, direct.stdout);
  });
});
