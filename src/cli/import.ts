import { stat } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, DATABASE_URL_HELP } from '../config.js';
import { IMPORT_FORMATS, type ImportFormat } from '../import/readers/index.js';
import type { ImportDeps, ImportReport } from '../import/engine.js';
import type { ImportDestination } from '../import/destinations.js';
import { MAX_BATCH_POINTS } from '../ingest/limits.js';
import { describeDatabase, openStore, type DatabaseConfig } from '../store/backends.js';
import { StoreUnavailableError } from '../store/store.js';
import type { FileSummary } from '../import/summary.js';
import { flagIfGiven, loadConfigNamingFlags } from './usage.js';

/** Where the command writes and what it reads; tests pass their own. */
export interface ImportIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** The stream progress is drawn on (a bar when it is a TTY). */
  progress?: { isTTY?: boolean; write(text: string): unknown };
  env?: NodeJS.ProcessEnv;
  /** How files are opened and read; the real formats by default. */
  deps?: ImportDeps;
  /** Aborting it stops the import as Ctrl-C does; by default SIGINT aborts. */
  signal?: AbortSignal;
}

export interface ImportFlags {
  user?: string;
  format?: ImportFormat;
  databaseUrl?: string;
  api?: string;
  token?: string;
  batchSize: number;
  json?: boolean;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** A problem with the command line or the settings: one line, exit 2, before anything is read. */
class UsageError extends Error {}

/** `locus import`: location history files into the database, or into a running Locus through its API. */
export function importCommand(io: ImportIo = {}): Command {
  return new Command('import')
    .description(
      'import location history (GPX, GeoJSON, challenge CSV, OwnTracks .rec, Google Takeout; gzipped or not) ' +
        'through the same checks, UTC conversion and dedupe as PUT /location',
    )
    .argument('<files...>', 'files to import, in order')
    .option('--user <id>', "the user_id of every point [default: the file's own (CSV user_id, .rec path)]")
    .addOption(
      new Option('--format <format>', 'read every file as this format [default: detected]').choices(
        IMPORT_FORMATS,
      ),
    )
    .option('--database-url <url>', DATABASE_URL_HELP)
    .addOption(
      new Option(
        '--api <url>',
        'send to a running Locus (POST /locations) instead of the database',
      ).conflicts('databaseUrl'),
    )
    .option('--token <token>', 'with --api: sent as Authorization: Bearer TOKEN [LOCUS_TOKEN]')
    .option(
      '--batch-size <n>',
      `points per transaction (per request with --api, at most ${MAX_BATCH_POINTS})`,
      positiveInteger,
      5000,
    )
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (files: string[], flags: ImportFlags) => {
      process.exitCode = await runImport(files, flags, io);
    });
}

/** Runs an import; resolves with the exit code: 0 all read, 1 a file unreadable or a store failure, 2 bad usage, 130 interrupted. */
export async function runImport(files: string[], flags: ImportFlags, io: ImportIo = {}): Promise<number> {
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  try {
    return await importAll(files, flags, io, err);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      err(`locus import: ${error.message}\n`);
      return 2;
    }
    // A database that cannot be opened: one line with the driver's reason, no stack.
    if (error instanceof StoreUnavailableError) {
      err(`locus import: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function importAll(
  files: string[],
  flags: ImportFlags,
  io: ImportIo,
  err: (text: string) => void,
): Promise<number> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const env = io.env ?? process.env;
  if (flags.token !== undefined && flags.api === undefined) throw new UsageError('--token needs --api');
  await checkUser(flags.user);
  const config = loadConfigNamingFlags(
    {
      DATABASE_URL: flags.databaseUrl ?? env.DATABASE_URL,
      DEDUPE_RETENTION: env.DEDUPE_RETENTION,
      OWNTRACKS_USER_ID: env.OWNTRACKS_USER_ID,
    },
    { DATABASE_URL: flagIfGiven(flags.databaseUrl, '--database-url') },
  );
  // The token may come from the environment, where it stays out of `ps` and the shell's history.
  const token = checkToken(flags.token, env.LOCUS_TOKEN);
  const [{ importFiles, exitCodeOf }, { startImportProgress }, deps] = await Promise.all([
    import('../import/engine.js'),
    import('../import/progress.js'),
    io.deps ??
      import('../import/deps.js').then((real) =>
        real.importDeps({ owntracksUserId: config.owntracksUserId }),
      ),
  ]);
  const destination = await openDestination({ ...flags, token }, config.database);
  const stop = interruption(io.signal, err);
  const progress = startImportProgress(await totalBytes(files), io.progress ?? process.stderr);
  let report: ImportReport;
  try {
    report = await importFiles(files, destination, deps, {
      user: flags.user,
      format: flags.format,
      batchSize: flags.batchSize,
      // DEDUPE_RETENTION refuses old points here as the server does, so that the result is the server's.
      prepare:
        flags.api === undefined && config.retentionMs !== null
          ? { oldestAcceptedMs: Date.now() - config.retentionMs }
          : {},
      signal: stop.signal,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    stop.release();
    await destination.close();
  }
  const refusedFiles = report.files.filter(nothingStored);
  // A file of which not one point could be stored did not import, whatever the reason: exit 1, saying why.
  const code = exitCodeOf(report) === 0 && refusedFiles.length > 0 ? 1 : exitCodeOf(report);
  for (const file of report.files) if (file.error !== null) err(`locus import: ${explain(file.error)}\n`);
  for (const file of refusedFiles) err(`locus import: ${allRejectedText(file, flags.user)}\n`);
  if (report.outcome === 'interrupted')
    err('locus import: interrupted; run the same command again to finish\n');
  out(flags.json ? jsonReport(report, code) : await textReport(report));
  return code;
}

/**
 * The token to send, from --token or else LOCUS_TOKEN. A Locus token is printable ASCII (`locus_…`); anything else
 * cannot be one, and fetch would fail on the header (or send it mangled) before the server could say 401.
 */
function checkToken(flag: string | undefined, env: string | undefined): string | undefined {
  const token = flag ?? env;
  if (token === undefined || /^[\x21-\x7e]+$/.test(token)) return token;
  const source = flag === undefined ? 'LOCUS_TOKEN' : '--token';
  throw new UsageError(
    `${source} is not a valid token: tokens are printable ASCII without spaces, like locus_… (see locus token create)`,
  );
}

/** The destination's failure, with what to do when it is the token's. */
function explain(error: string): string {
  if (/ answered 401\b/.test(error))
    return `${error} (the token is not valid, or was revoked: check --token or LOCUS_TOKEN, see locus token create)`;
  if (/ answered 403\b/.test(error))
    return `${error} (the token may not write these points: a user token writes only its own user; use --user or an admin token)`;
  return error;
}

/** A file that was read, had points, and of which none was stored or already there: every one was rejected. */
function nothingStored(file: FileSummary): boolean {
  return file.status === 'done' && file.rejected > 0 && file.stored === 0 && file.duplicates === 0;
}

function allRejectedText(file: FileSummary, user: string | undefined): string {
  const reasons = file.rejected_by_reason
    .slice(0, 3)
    .map((r) => `${r.count.toLocaleString('en-US')} × ${r.field}: ${r.reason}`)
    .join('; ');
  const noUser = user === undefined && file.rejected_by_reason.some((r) => r.field === 'user_id');
  return (
    `${file.file}: nothing stored: all ${file.rejected.toLocaleString('en-US')} points were rejected (${reasons})` +
    (noUser ? '; give --user, the file names no user' : '')
  );
}

async function checkUser(user: string | undefined): Promise<void> {
  if (user === undefined) return;
  const { checkUserId } = await import('../ingest/apps/fix.js');
  const checked = checkUserId(user, '--user');
  if (!checked.ok) throw new UsageError(`--user ${checked.errors.map((e) => e.message).join(', ')}`);
}

async function openDestination(flags: ImportFlags, database: DatabaseConfig): Promise<ImportDestination> {
  const destinations = await import('../import/destinations.js');
  if (flags.api !== undefined) {
    if (!URL.canParse(flags.api))
      throw new UsageError(
        `--api must be a URL like http://localhost:5000, got ${JSON.stringify(flags.api)}`,
      );
    return destinations.apiDestination({ url: flags.api, token: flags.token });
  }
  return destinations.storeDestination(await openStore(database), describeDatabase(database));
}

/** The files' sizes on disk together, for the progress bar; a file that cannot be read counts 0 (it fails later). */
async function totalBytes(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/**
 * Ctrl-C stops the import after the batch in hand has committed, and the summary so far is printed. A second
 * Ctrl-C quits at once: SQLite and PostgreSQL roll back the transaction in flight, so even that loses nothing that
 * a second run would not store.
 */
function interruption(signal: AbortSignal | undefined, err: (text: string) => void) {
  if (signal) return { signal, release: () => {} };
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    err('\nlocus import: stopping after the current batch commits (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
}

async function textReport(report: ImportReport): Promise<string> {
  const { fileSummaryText, totalsText } = await import('../import/summary.js');
  const files = report.files.map(fileSummaryText).join('\n');
  return report.files.length > 1 ? `${files}\n${totalsText(report.totals)}` : files;
}

/**
 * The summary for scripts: `{outcome, exit_code, files: [FileSummary…], totals, max_rss_bytes}`, field names as in
 * src/import/summary.ts. `max_rss_bytes` is the process's peak memory, which the tests bound.
 */
function jsonReport(report: ImportReport, code: number): string {
  const body = {
    outcome: report.outcome,
    exit_code: code,
    files: report.files,
    totals: report.totals,
    max_rss_bytes: process.resourceUsage().maxRSS * 1024,
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}
