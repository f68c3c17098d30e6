import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CommanderError } from 'commander';
import {
  DEFAULT_TRACE_OPTIONS,
  SCENARIOS,
  generateTrace,
  type TraceOptions,
} from '../tools/generate/trace.js';
import { CSV_COLUMNS, generateCommand, type GenerateIo } from './generate.js';

const HEADER = 'timestamp,lat,long,accuracy,speed,user_id';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'locus-generate-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
const tempFile = () => join(dir, `trace-${++fileCount}.csv`);

/** Runs `locus generate ARGS` in-process; rejects with the CommanderError on failure, stderr captured. */
async function run(args: string[], io: GenerateIo = {}): Promise<{ stderr: string }> {
  let stderr = '';
  const command = generateCommand(io)
    .exitOverride()
    .configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) Object.assign(error, { stderr });
    throw error;
  }
  return { stderr };
}

async function generateToFile(args: string[]): Promise<string> {
  const out = tempFile();
  await run([...args, '--out', out]);
  return readFile(out, 'utf8');
}

/** The CSV the command should write for these options, built independently of csv-stringify. */
function expectedCsv(options: Partial<TraceOptions>): string {
  const lines = [...generateTrace(options)].map((r) =>
    [r.timestamp, r.lat, r.long, r.accuracy, r.speed, r.user_id].join(','),
  );
  return [HEADER, ...lines].join('\n') + '\n';
}

/** A sink that takes a while per chunk and records the most it ever had buffered. */
class SlowSink extends Writable {
  maxBuffered = 0;
  bytes = 0;
  constructor() {
    super({ highWaterMark: 4096 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    this.bytes += chunk.length;
    setImmediate(callback);
  }
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

describe('locus generate', () => {
  it('writes the header, then one line per generated row, to --out', async () => {
    const csv = await generateToFile(['--seed', '4', '--users', '2', '--minutes', '20']);
    const lines = csv.split('\n');
    assert.equal(lines[0], HEADER);
    assert.equal(lines.at(-1), '', 'ends with a newline');
    assert.equal(lines.length - 2, [...generateTrace({ seed: 4, users: 2, minutes: 20 })].length);
    assert.equal(csv, expectedCsv({ seed: 4, users: 2, minutes: 20 }));
    assert.ok(lines.length > 100);
    assert.deepEqual(new Set(lines.slice(1, -1).map((l) => l.split(',')[5])), new Set(['u1', 'u2']));
  });

  it('uses the defaults: seed 1, 3 city users, 60 minutes from 2017-01-01 08:00:00', async () => {
    const csv = await generateToFile([]);
    assert.equal(csv, expectedCsv(DEFAULT_TRACE_OPTIONS));
    assert.match(csv.split('\n')[1]!, /^2017-01-01 08:0[01]:\d\d,40\.\d+,-73\.\d+,[\d.]+,[\d.]+,u\d$/);
    const defaults = Object.fromEntries(
      generateCommand().options.map((o) => [o.attributeName(), o.defaultValue]),
    );
    assert.deepEqual(defaults, { ...DEFAULT_TRACE_OPTIONS, out: undefined });
    const scenario = generateCommand().options.find((o) => o.long === '--scenario')!;
    assert.deepEqual(scenario.argChoices, [...SCENARIOS]);
    assert.deepEqual([...CSV_COLUMNS].join(','), HEADER);
  });

  it('passes every option through to the generator', async () => {
    const args = ['--seed', '9', '--users', '5', '--minutes', '15', '--start', '2017-07-01 22:10:00'];
    const options = { seed: 9, users: 5, minutes: 15, start: '2017-07-01 22:10:00' };
    for (const scenario of SCENARIOS) {
      assert.equal(
        await generateToFile([...args, '--scenario', scenario]),
        expectedCsv({ ...options, scenario }),
      );
    }
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    for (const scenario of SCENARIOS) {
      const args = ['--scenario', scenario, '--users', '4', '--minutes', '30'];
      const first = await generateToFile([...args, '--seed', '42']);
      assert.equal(await generateToFile([...args, '--seed', '42']), first);
      assert.notEqual(await generateToFile([...args, '--seed', '43']), first);
    }
  });

  it('writes to stdout without --out, or with --out -', async () => {
    for (const extra of [[], ['--out', '-']]) {
      const stdout = new Collect();
      await run(['--minutes', '10', ...extra], { stdout });
      assert.equal(stdout.text, expectedCsv({ minutes: 10 }));
      assert.equal(stdout.writableEnded, false, 'stdout is left open');
    }
  });

  it('respects backpressure: buffers stay small while a long trace streams into a slow sink', async () => {
    const stdout = new SlowSink();
    await run(['--users', '20', '--minutes', '180'], { stdout });
    assert.ok(stdout.bytes > 1_000_000, `wrote ${stdout.bytes} bytes`);
    assert.ok(stdout.maxBuffered < 64 * 1024, `buffered up to ${stdout.maxBuffered} bytes`);
  });

  const invalid: [string, string[]][] = [
    ['zero users', ['--users', '0']],
    ['fractional minutes', ['--minutes', '1.5']],
    ['negative seed', ['--seed', '-1']],
    ['non-numeric seed', ['--seed', 'abc']],
    ['a seed beyond 32 bits', ['--seed', '4294967296']],
    ['too many users', ['--users', '1000000']],
    ['an unparseable start', ['--start', 'tomorrow']],
    ['an impossible date', ['--start', '2017-02-30 08:00:00']],
    ['an unknown scenario', ['--scenario', 'moon']],
  ];
  for (const [what, args] of invalid) {
    it(`fails with a one-line message for ${what}`, async () => {
      const out = tempFile();
      await assert.rejects(run([...args, '--out', out]), (error: unknown) => {
        assert.ok(error instanceof CommanderError);
        assert.equal(error.exitCode, 1);
        const stderr = (error as CommanderError & { stderr: string }).stderr;
        assert.match(stderr, /^error: [^\n]+\n$/);
        assert.doesNotMatch(stderr, /\bat /);
        return true;
      });
      assert.equal(existsSync(out), false, 'writes nothing');
    });
  }

  it('fails with a one-line message when --out cannot be written', async () => {
    const out = join(dir, 'missing', 'trace.csv');
    await assert.rejects(run(['--out', out]), (error: unknown) => {
      assert.ok(error instanceof CommanderError);
      const stderr = (error as CommanderError & { stderr: string }).stderr;
      assert.match(stderr, /^error: cannot write .*missing.*ENOENT[^\n]*\n$/);
      return true;
    });
  });
});
