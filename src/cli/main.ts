#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { exportCommand } from './export.js';
import { generateCommand } from './generate.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { storeStartupLine } from './store-errors.js';
import { tokenCommand } from './token.js';
import { overrideExits, packageVersion, processExitCode } from './usage.js';

const program = new Command('locus')
  .description('Locus: location telemetry, exact one-minute averages per user, stored in UTC')
  .addCommand(serveCommand())
  .addCommand(generateCommand())
  .addCommand(migrateCommand())
  .addCommand(simulateCommand())
  .addCommand(exportCommand())
  .addCommand(importCommand())
  .addCommand(tokenCommand())
  .version(packageVersion(), '-V, --version', 'print the version of Locus');
// Every command's errors come back here, so that a bad option exits 2 whichever command it was given to.
overrideExits(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(processExitCode(error));
  // A bad setting is the operator's to fix: one line naming it, no stack.
  if (error instanceof ConfigError) {
    process.stderr.write(`locus: ${error.message}\n`);
    process.exit(2);
  }
  // So is a database that cannot be reached at start-up: one line with the driver's reason, no stack.
  const storeLine = storeStartupLine(error);
  if (storeLine !== null) {
    process.stderr.write(storeLine);
    process.exit(1);
  }
  throw error;
}
