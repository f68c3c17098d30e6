import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DATABASE_URL_HELP } from '../config.js';
import { parseInstant } from '../ingest/timestamp.js';
import { missingDatabase, openStore, type DatabaseConfig } from '../store/backends.js';
import type { MinuteRange } from '../store/store.js';
import type { MinuteReader } from '../export/minutes.js';
import { flagIfGiven, loadConfigNamingFlags, usageError } from './usage.js';
import { normalUserId } from '../schemas/ajv.js';

// Declared here rather than imported from src/export, so that loading the CLI does not load the exporters.
const FORMATS = ['geojson', 'csv', 'gpx'] as const;
type Format = (typeof FORMATS)[number];

/** Where the command writes and what it reads; tests pass their own. */
export interface ExportIo {
  stdout?: Writable;
  /** Where the line saying what was written goes (never stdout, which may be the data). */
  stderr?: { write(text: string): unknown };
  env?: NodeJS.ProcessEnv;
}

interface ExportFlags {
  user: string;
  from?: number;
  to?: number;
  format?: Format;
  out?: string;
  databaseUrl?: string;
}

/** `locus export`: one user's minutes as GeoJSON, CSV or GPX, read straight from the database. */
export function exportCommand(io: ExportIo = {}): Command {
  return new Command('export')
    .description("write a user's one-minute averages as GeoJSON, CSV or GPX, straight from the database")
    .requiredOption('--user <id>', 'the user_id to export')
    .option(
      '--from <instant>',
      'first minute, inclusive: ISO 8601 date or date-time (UTC without offset)',
      instant,
    )
    .option('--to <instant>', 'end, exclusive: ISO 8601 date or date-time (UTC without offset)', instant)
    .addOption(
      new Option('--format <format>', 'file format [default: from the --out extension]').choices(FORMATS),
    )
    .option('--out <file>', 'write to FILE instead of stdout ("-" is stdout); replaced only once complete')
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (flags: ExportFlags, command: Command) => {
      const env = io.env ?? process.env;
      const database = loadConfigNamingFlags(
        { DATABASE_URL: flags.databaseUrl ?? env.DATABASE_URL },
        { DATABASE_URL: flagIfGiven(flags.databaseUrl, '--database-url') },
      ).database;
      const minutes = await runExport(flags, command, database, io.stdout ?? process.stdout);
      const where = flags.out === undefined || flags.out === '-' ? 'stdout' : flags.out;
      (io.stderr ?? process.stderr).write(
        `locus export: wrote ${minutes.toLocaleString('en-US')} minute${minutes === 1 ? '' : 's'} of ` +
          `${JSON.stringify(normalUserId(flags.user))} to ${where}\n`,
      );
    });
}

/** Commander parser for --from and --to: the same ISO 8601 forms as the API's query parameters. */
function instant(text: string): number {
  const ms = parseInstant(text);
  if (ms === null) {
    throw new InvalidArgumentError(
      "expected an ISO 8601 date ('2017-01-01') or date-time ('2017-01-01T13:05:00Z')",
    );
  }
  return ms;
}

function formatOf(flags: ExportFlags, command: Command): Format {
  if (flags.format) return flags.format;
  const extension = flags.out?.match(/\.([a-z]+)$/i)?.[1]?.toLowerCase();
  const inferred = FORMATS.find((f) => f === extension);
  if (inferred) return inferred;
  return usageError(
    command,
    `error: --format is required (${FORMATS.join(', ')}) unless --out ends in one of them`,
  );
}

function rangeOf(flags: ExportFlags, command: Command): MinuteRange {
  // Half-open: --from X --to X is a valid, empty range (as GET …/locations?from=X&to=X).
  if (flags.from !== undefined && flags.to !== undefined && flags.to < flags.from) {
    usageError(command, 'error: --to must be after --from');
  }
  return { fromMs: flags.from, toMs: flags.to };
}

/** Exports; resolves with the number of minutes written. */
async function runExport(
  flags: ExportFlags,
  command: Command,
  database: DatabaseConfig,
  stdout: Writable,
): Promise<number> {
  const format = formatOf(flags, command);
  const range = rangeOf(flags, command);
  // Opening a database that is not there could create an empty one, and then report "no data".
  const missing = missingDatabase(database);
  if (missing !== null) command.error(`error: ${missing} (set DATABASE_URL or --database-url)`);
  const [{ openMinuteReader }, { exportChunks }] = await Promise.all([
    import('../export/minutes.js'),
    import('../export/formats.js'),
  ]);
  const store = await openStore(database);
  try {
    // Users are stored under their id in Unicode NFC (src/ingest/compose.ts): --user may name one in any form.
    const user = normalUserId(flags.user);
    const read = await openMinuteReader(store, user, range);
    if (!read) return command.error(`error: there is no data for user ${JSON.stringify(user)}`);
    const counted = countingFirstPass(read);
    await write(Readable.from(exportChunks(format, counted.read, user)), flags.out, stdout, command);
    return counted.minutes();
  } finally {
    await store.close();
  }
}

/** The reader, counting the minutes of its first pass (every format reads the whole range once, first). */
function countingFirstPass(read: MinuteReader): { read: MinuteReader; minutes: () => number } {
  let minutes = 0;
  let first = true;
  const counting: MinuteReader = (beforeMs) => {
    if (!first) return read(beforeMs);
    first = false;
    return (async function* () {
      for await (const page of read(beforeMs)) {
        minutes += page.length;
        yield page;
      }
    })();
  };
  return { read: counting, minutes: () => minutes };
}

async function write(body: Readable, out: string | undefined, stdout: Writable, command: Command) {
  if (out === undefined || out === '-') return writeStdout(body, stdout);
  // A temporary name beside the target, renamed at the end: a failed export never leaves a complete-looking file.
  const partial = `${out}.partial-${process.pid}`;
  try {
    await pipeline(body, createWriteStream(partial));
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    if (isSystemError(error)) command.error(`error: cannot write ${out}: ${error.message}`);
    throw error;
  }
}

async function writeStdout(body: Readable, stdout: Writable) {
  try {
    await pipeline(body, stdout, { end: false }); // stdout is not ours to close
    // An empty write calls back once everything before it is flushed, so the caller may exit right after.
    await new Promise<void>((resolve, reject) => stdout.write('', (e) => (e ? reject(e) : resolve())));
  } catch (error) {
    // `locus export … | head` closes the pipe early: not a failure.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}

/** An operating-system failure (ENOENT, EACCES, ENOSPC…), as opposed to a bug. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
