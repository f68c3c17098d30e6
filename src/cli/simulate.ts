import { Command, InvalidArgumentError, Option } from 'commander';
import type { SendMode, SendReport } from '../tools/simulate/send.js';

/** Where the command writes; tests pass their own. */
export interface SimulateIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where LOCUS_TOKEN is read; none by default in tests. */
  env?: NodeJS.ProcessEnv;
}

const PROCESS_IO: SimulateIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
};

export interface SimulateFlags {
  api: string;
  mode: SendMode;
  batchSize: number;
  concurrency: number;
  verify?: boolean;
  /** Sent as `Authorization: Bearer TOKEN`; else LOCUS_TOKEN. */
  token?: string;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** Fails like a configuration error: one line, exit 2, no stack. */
class SimulateError extends Error {}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('replay challenge-format CSV traces against a running Locus, merged in timestamp order')
    .argument('<files...>', 'CSV files: timestamp,lat,long,accuracy,speed,user_id')
    .option('--api <url>', 'Locus base URL [API_HOST]', process.env.API_HOST ?? 'http://localhost:5000')
    .addOption(
      new Option('--mode <mode>', 'put: one point per PUT /location; batch: POST /locations')
        .choices(['put', 'batch'])
        .default('put'),
    )
    .option('--batch-size <n>', 'points per POST /locations in batch mode', positiveInteger, 1000)
    .option('--concurrency <n>', "connections; each user's points stay in order on one", positiveInteger, 1)
    .option('--token <token>', 'sent as Authorization: Bearer TOKEN, for a server with AUTH=on [LOCUS_TOKEN]')
    .option('--verify', 'recompute the minute averages from the CSVs and compare them with the API')
    .action(async (files: string[], flags: SimulateFlags) => {
      process.exitCode = await runSimulate(files, flags);
    });
}

/** Runs a replay; resolves with the exit code: 0 all well, 1 errors or differences, 2 cannot start. */
export async function runSimulate(
  files: string[],
  flags: SimulateFlags,
  io: SimulateIo = PROCESS_IO,
): Promise<number> {
  try {
    return await simulate(files, flags, io);
  } catch (error) {
    if (!(error instanceof SimulateError)) throw error;
    io.err(`locus simulate: ${error.message}\n`);
    return 2;
  }
}

async function checkReachable(api: string): Promise<void> {
  const { describeFailure } = await import('../tools/simulate/send.js');
  try {
    await (await fetch(`${api}/healthz`)).body?.cancel();
  } catch (error) {
    throw new SimulateError(
      `cannot reach ${api} (${describeFailure(error)}); is Locus running? (--api or API_HOST)`,
    );
  }
}

async function readRows(files: string[]) {
  const { readMerged } = await import('../tools/simulate/rows.js');
  try {
    return await readMerged(files);
  } catch (error) {
    throw new SimulateError(`cannot read ${files.join(', ')}: ${(error as Error).message}`);
  }
}

/**
 * The token, from --token or else LOCUS_TOKEN. A Locus token is printable ASCII (`locus_…`): anything else cannot be
 * one, and fetch would throw on the header for every request.
 */
function tokenOf(flags: SimulateFlags, io: SimulateIo): string | undefined {
  const token = flags.token ?? io.env?.LOCUS_TOKEN;
  if (token === undefined || /^[\x21-\x7e]+$/.test(token)) return token;
  throw new SimulateError(
    `${flags.token === undefined ? 'LOCUS_TOKEN' : '--token'} is not a valid token: tokens are printable ASCII ` +
      'without spaces, like locus_… (see locus token create)',
  );
}

function refusedText(refused: { status: number; problem: string }, token: string | undefined): string {
  const why = refused.problem ? `: ${refused.problem}` : '';
  const hint =
    refused.status === 403
      ? 'a user token may only send its own user; use an admin token (locus token create --admin)'
      : token === undefined
        ? 'the server requires a token: give --token or LOCUS_TOKEN (locus token create)'
        : 'the token is not valid, or was revoked (locus token list)';
  return `the server answered ${refused.status}${why}; stopped after the first refusal: ${hint}`;
}

async function simulate(files: string[], flags: SimulateFlags, io: SimulateIo): Promise<number> {
  const api = flags.api.replace(/\/+$/, '');
  const token = tokenOf(flags, io);
  const rows = await readRows(files);
  await checkReachable(api);
  const [{ sendRows }, { startProgress }] = await Promise.all([
    import('../tools/simulate/send.js'),
    import('../tools/simulate/progress.js'),
  ]);
  const progress = startProgress(rows.length, io.err);
  const report = await sendRows(rows, { ...flags, api, token, onProgress: progress.update });
  progress.stop();
  if (report.refused) throw new SimulateError(refusedText(report.refused, token));
  io.out(await summary(report));
  if (!flags.verify) return report.errors > 0 ? 1 : 0;
  return (await verify(api, rows, io, token)) && report.errors === 0 ? 0 : 1;
}

async function summary(report: SendReport): Promise<string> {
  const { percentile } = await import('../tools/simulate/send.js');
  const seconds = report.elapsedMs / 1000;
  const lines = [
    `rows sent   ${report.sent}`,
    `stored      ${report.stored}`,
    `duplicates  ${report.duplicates}`,
    `rejected    ${report.rejected}`,
    `errors      ${report.errors}${[...report.failures].map(([kind, n]) => ` (${kind}: ${n})`).join('')}`,
    `elapsed     ${seconds.toFixed(2)} s`,
    `points/s    ${Math.round(report.sent / Math.max(seconds, 1e-9))}`,
    `latency     p50 ${percentile(report.latenciesMs, 0.5).toFixed(2)} ms, p99 ${percentile(report.latenciesMs, 0.99).toFixed(2)} ms`,
  ];
  return `${lines.join('\n')}\n`;
}

async function verify(api: string, rows: unknown[], io: SimulateIo, token?: string): Promise<boolean> {
  const [{ expectFromRows }, { verifyAgainstApi }] = await Promise.all([
    import('../tools/simulate/expected.js'),
    import('../tools/simulate/verify.js'),
  ]);
  const expected = expectFromRows(rows);
  const differences = await verifyAgainstApi(api, expected.users, token);
  const minutes = [...expected.users.values()].reduce((sum, list) => sum + list.length, 0);
  for (const line of differences.slice(0, 50)) io.out(`difference  ${line}\n`);
  if (differences.length > 50) io.out(`difference  … and ${differences.length - 50} more\n`);
  io.out(
    `verify      ${differences.length === 0 ? 'OK' : 'FAILED'}: ${minutes} minutes of ${expected.users.size} users, ` +
      `${differences.length} difference(s)\n`,
  );
  return differences.length === 0;
}
