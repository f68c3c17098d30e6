import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

function cannotOpen(file: string, why: string): Error {
  // SQLITE_CANTOPEN is what SQLite itself says of a file it cannot open; it maps to StoreUnavailableError, which
  // the CLI reports as one line.
  return new Database.SqliteError(`cannot open ${file}: ${why}`, 'SQLITE_CANTOPEN');
}

/**
 * Creates the directories a database file's path needs, one at a time from the deepest existing one, and says
 * in one line which part of the path is wrong.
 *
 * TRICKY: not `mkdirSync(dir, { recursive: true })`. On a pseudo file system such as /proc, mkdir of a missing
 * child answers ENOENT although its parent exists, and Node's recursive mkdir then retries forever inside one
 * synchronous call: 100 % CPU, and SIGTERM never handled (its listener is JavaScript). Its error for a parent
 * that is a file is a bare EEXIST naming only that parent, too.
 */
export function makeParentDirectory(file: string): void {
  const missing: string[] = [];
  for (let dir = dirname(file); ;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw cannotOpen(file, `${dir}: ${code ?? String(error)}`);
      missing.push(dir);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
      continue;
    }
    if (!isDirectory) throw cannotOpen(file, `${dir} is a file, not a directory`);
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Made meanwhile by someone else: what was wanted.
      if (code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw cannotOpen(file, `cannot create the directory ${dir} (${code ?? String(error)})`);
    }
  }
}
