#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { StoreUnavailableError } from '../store/store.js';
import { exportCommand } from './export.js';
import { generateCommand } from './generate.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { tokenCommand } from './token.js';

const program = new Command('locus')
  .description('Locus: location telemetry, exact one-minute averages per user, stored in UTC')
  .addCommand(serveCommand())
  .addCommand(generateCommand())
  .addCommand(migrateCommand())
  .addCommand(simulateCommand())
  .addCommand(exportCommand())
  .addCommand(importCommand())
  .addCommand(tokenCommand())
  .exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  // A bad setting is the operator's to fix: one line naming it, no stack.
  if (error instanceof ConfigError) {
    process.stderr.write(`locus: ${error.message}\n`);
    process.exit(2);
  }
  // So is a database that cannot be reached at start-up: one line with the driver's reason, no stack.
  if (error instanceof StoreUnavailableError) {
    process.stderr.write(`locus: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
