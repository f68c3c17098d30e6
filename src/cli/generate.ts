import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Scenario, TraceOptions, TraceRow } from '../tools/generate/trace.js';
import { usageError } from './usage.js';

/** Where the command writes when there is no `--out`; tests pass their own stream. */
export interface GenerateIo {
  stdout?: Writable;
  /** Where the line saying what was written goes (never stdout, which may be the data). */
  stderr?: { write(text: string): unknown };
}

interface GenerateFlags {
  seed: number;
  users: number;
  minutes: number;
  start: string;
  scenario: Scenario;
  out?: string;
}

export const CSV_COLUMNS = ['timestamp', 'lat', 'long', 'accuracy', 'speed', 'user_id'] as const;

// Mirrors DEFAULT_TRACE_OPTIONS (a test checks), so that declaring the command does not load the generator.
const DEFAULTS = {
  seed: 1,
  users: 3,
  minutes: 60,
  start: '2017-01-01 08:00:00',
  scenario: 'city',
} as const satisfies TraceOptions;
const SCENARIOS = ['city', 'dst', 'zones'] as const satisfies readonly Scenario[];

/** `locus generate`: a deterministic synthetic trace as challenge CSV, on stdout or in `--out FILE`. */
export function generateCommand(io: GenerateIo = {}): Command {
  return new Command('generate')
    .description('write a synthetic, deterministic location trace as challenge CSV')
    .option('--seed <n>', 'PRNG seed: the same options give byte-identical output', integer(0), DEFAULTS.seed)
    .option('--users <n>', 'number of users, u1 … uN', integer(1), DEFAULTS.users)
    .option('--minutes <n>', 'trace length per user, in minutes', integer(1), DEFAULTS.minutes)
    .option(
      '--start <local time>',
      "start, YYYY-MM-DD HH:MM:SS local wall time in each user's own zone (ignored by dst)",
      DEFAULTS.start,
    )
    .addOption(
      new Option(
        '--scenario <name>',
        'city: New York users; dst: New York across the 2017-11-05 fall-back and 2017-03-12 spring-forward; ' +
          'zones: New York, Kathmandu, Chatham Islands, Lord Howe Island and the open sea',
      )
        .choices(SCENARIOS)
        .default(DEFAULTS.scenario),
    )
    .option('--out <file>', 'write the CSV to FILE instead of stdout ("-" is stdout)')
    .action(async (flags: GenerateFlags, command: Command) => {
      const written = await writeTrace(flags, command, io.stdout ?? process.stdout);
      if (written === null) return; // the reader closed the pipe early
      const where = flags.out === undefined || flags.out === '-' ? 'stdout' : flags.out;
      const n = (count: number, what: string) =>
        `${count.toLocaleString('en-US')} ${what}${count === 1 ? '' : 's'}`;
      (io.stderr ?? process.stderr).write(
        `locus generate: wrote ${n(written.rows, 'row')} (${n(written.users, 'user')}, ` +
          `${n(written.minutes, 'minute')} each, ${written.scenario}) to ${where}\n`,
      );
    });
}

interface Written {
  rows: number;
  users: number;
  minutes: number;
  scenario: Scenario;
}

/** Writes the trace; resolves with what was written, or null when the reader of stdout closed it early. */
async function writeTrace(flags: GenerateFlags, command: Command, stdout: Writable): Promise<Written | null> {
  const [{ generateTrace, resolveTraceOptions }, { stringify }] = await Promise.all([
    import('../tools/generate/trace.js'),
    import('csv-stringify'),
  ]);
  let options: TraceOptions;
  try {
    const { seed, users, minutes, start, scenario } = flags;
    options = resolveTraceOptions({ seed, users, minutes, start, scenario });
  } catch (error) {
    if (error instanceof RangeError) usageError(command, `error: ${error.message}`);
    throw error;
  }

  const file = flags.out === '-' ? undefined : flags.out;
  const toStdout = file === undefined;
  const sink = file === undefined ? stdout : createWriteStream(file);
  let rows = 0;
  function* counted(trace: Iterable<TraceRow>) {
    for (const row of trace) {
      rows++;
      yield row;
    }
  }
  try {
    // pipeline() waits for the sink to drain, so memory stays flat however long the trace.
    await pipeline(
      Readable.from(counted(generateTrace(options))),
      stringify({ header: true, columns: [...CSV_COLUMNS] }),
      sink,
      { end: !toStdout }, // stdout is not ours to close
    );
    if (toStdout) {
      // An empty write calls back once everything before it is flushed, so the caller may exit right after.
      await new Promise<void>((resolve, reject) => sink.write('', (e) => (e ? reject(e) : resolve())));
    }
  } catch (error) {
    // `locus generate | head` closes the pipe early: not a failure.
    if (toStdout && errorCode(error) === 'EPIPE') return null;
    if (isSystemError(error)) command.error(`error: cannot write ${file ?? 'stdout'}: ${error.message}`);
    throw error;
  }
  return { rows, users: options.users, minutes: options.minutes, scenario: options.scenario };
}

/** Commander parser for a whole decimal number not below `min`; the generator checks the upper bounds. */
function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(
        min === 0 ? 'expected a non-negative integer' : 'expected a positive integer',
      );
    }
    return n;
  };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An operating-system failure (ENOENT, EACCES, ENOSPC…), as opposed to a bug. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
