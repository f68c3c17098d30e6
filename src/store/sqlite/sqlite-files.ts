/*
 * The files of a SQLite database as they were when Locus opened them, and two checks SQLite does not make for us.
 *
 * Moved or deleted: a connection keeps writing to the file it opened, by its descriptor, whatever happens to the
 * name. After `rm locus.db*` every commit still succeeds, into files no one can open again, and the next start
 * finds an empty database: each acknowledged point since is lost. SQLite only notices a moved file in rollback
 * journal mode (SQLITE_READONLY_DBMOVED), never in WAL mode, and better-sqlite3 offers no file control to ask.
 * So the store compares the device and inode of each path now with those recorded at open, after each
 * transaction: no point is answered stored (or duplicate) unless the files it is in are still the ones at the
 * path. Not sticky: a file moved back is the database again.
 *
 * The -shm file is not written but mapped into memory; once it cannot be written (chattr +i), the next write to
 * the mapping is a SIGBUS, which ends the process with no log line and cannot be caught. Every use of a
 * connection checks first that the -shm can still be written (access(2) refuses an immutable file, root too).
 * TRICKY: this narrows the window to the microseconds between the check and SQLite's access; a flag set just then
 * still ends the process (README, "Load, slow clients and faults").
 *
 * Cost: a stat(2) or access(2) from Node is 1.5–5 µs (measured on a loaded 2-core machine); a commit checks the
 * -shm before and the two files after, three calls, against a commit's fsync of a millisecond or more, and on
 * the writer thread, not the event loop. A read pays one access(2).
 */
import { accessSync, constants, statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Where a file was: enough to tell the same file from a new one at the same path. */
export interface FileIdentity {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** The database file and its -wal, those that existed when recorded. */
export type DatabaseFileIdentities = readonly FileIdentity[];

/** The SQLite code the checks report: unavailable (503), as SQLite's own for a moved file in rollback mode. */
export const MOVED_CODE = 'SQLITE_READONLY_DBMOVED';
export const SHM_NOT_WRITABLE_CODE = 'SQLITE_READONLY_CANTINIT';

function identity(path: string): FileIdentity | null {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats ? { path, dev: stats.dev, ino: stats.ino } : null;
  } catch {
    return null;
  }
}

/**
 * The files holding the database's data at `path` now: the file and its -wal. Call once the first connection
 * has opened it in WAL mode (the -wal then exists, and stays while a connection is open). The -shm holds only an
 * index that the next start rebuilds from the -wal, so losing it loses nothing.
 */
export function recordDatabaseFiles(path: string): DatabaseFileIdentities {
  return [path, `${path}-wal`].flatMap((file) => identity(file) ?? []);
}

/** Throws (a SqliteError with MOVED_CODE) when a recorded file is no longer the one at its path. */
export function checkDatabaseFilesInPlace(files: DatabaseFileIdentities): void {
  for (const file of files) {
    const now = identity(file.path);
    if (now && now.dev === file.dev && now.ino === file.ino) continue;
    throw new Database.SqliteError(
      `${file.path} was ${now ? 'replaced' : 'moved or deleted'} while Locus had it open; nothing more is ` +
        'stored until it is put back or Locus is restarted (which opens whatever is at that path then)',
      MOVED_CODE,
    );
  }
}

/** Throws (a SqliteError with SHM_NOT_WRITABLE_CODE) when the -shm file exists and cannot be written. */
export function checkSharedMemoryWritable(path: string): void {
  const shm = `${path}-shm`;
  try {
    accessSync(shm, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new Database.SqliteError(
      `${shm} cannot be written (${code ?? String(error)}; immutable? see lsattr): SQLite maps it into memory, ` +
        'so Locus does not touch the database until it can be written again',
      SHM_NOT_WRITABLE_CODE,
    );
  }
}

/** Both checks: before any use of a connection to a file database. */
export function checkDatabaseFiles(path: string, files: DatabaseFileIdentities): void {
  checkSharedMemoryWritable(path);
  checkDatabaseFilesInPlace(files);
}
