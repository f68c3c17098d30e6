import { readFileSync } from 'node:fs';
import type { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config, type SettingName, type Settings } from '../config.js';

/*
 * What every `locus` command shares about its command line: which failures are the user's to fix (exit code 2, as
 * the README promises for a bad option or setting), which are not (1), and how a bad setting is named.
 */

/** The code of a CommanderError for a command line that cannot work (`command.error(…, { code: USAGE })`). */
export const USAGE = 'locus.usage';

/** Commander's own codes for a command line it could not parse, and ours. */
const USAGE_CODES = new Set([
  USAGE,
  'commander.invalidArgument',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.conflictingOption',
  'commander.unknownOption',
  'commander.excessArguments',
  'commander.unknownCommand',
  // `locus` with no command shows the help as an error.
  'commander.help',
]);

/**
 * The process exit code for a CommanderError: 0 for `--help` and `--version`, 2 for a bad option or argument, and
 * the error's own code (1) for a failure while running (no data, a file that cannot be written). The in-process
 * error keeps commander's exitCode; main.ts exits with this.
 */
export function processExitCode(error: CommanderError): number {
  if (error.exitCode === 0) return 0;
  return USAGE_CODES.has(error.code) ? 2 : error.exitCode;
}

/** Stops the command with one line on stderr, as a bad option does: exit code 2 from main.ts. */
export function usageError(command: Command, message: string): never {
  return command.error(message, { code: USAGE });
}

/** Applies `exitOverride()` to a command and all its subcommands, so that main.ts decides every exit code. */
export function overrideExits(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
  return command;
}

/**
 * loadConfig, naming a bad setting the way the user gave it: `--dedupe-retention: …` when it came from that flag,
 * `DEDUPE_RETENTION: …` when it came from the environment. `fromFlags` maps each setting given by a flag to the flag.
 */
export function loadConfigNamingFlags(
  settings: Settings,
  fromFlags: Partial<Record<SettingName, string>>,
): Config {
  try {
    return loadConfig(settings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const flag = fromFlags[error.variable as SettingName];
    if (flag === undefined) throw error;
    throw new ConfigError(flag, error.message.slice(error.variable.length + 2));
  }
}

/** The flag a setting came from, when it was given; for loadConfigNamingFlags. */
export function flagIfGiven(value: string | undefined, flag: string): string | undefined {
  return value === undefined ? undefined : flag;
}

/** This package's version, from the package.json above this file (src/cli/ from source, dist/src/cli/ built). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (json.name === 'locus' && typeof json.version === 'string') return json.version;
    } catch {
      // not there: try one level up
    }
  }
  return 'unknown';
}
