/*
 * How a command that opens the store (`serve`, `migrate`, `token`, …) reports a database it cannot use at
 * start-up: one line on stderr and exit code 1, never a driver's stack. The store has already said what failed
 * (a StoreUnavailableError naming the SQLite path or the PostgreSQL SQLSTATE, never a password); this adds what
 * to do about the usual first-run cases.
 */
import { StoreUnavailableError } from '../store/store.js';

/** The SQLSTATE (or SQLite code) behind an error, from the first link of its cause chain that has one. */
function causeCode(error: unknown): string | undefined {
  for (let link = error, depth = 0; link instanceof Error && depth < 5; link = link.cause, depth++) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The name PostgreSQL quotes in its message: `database "locus" does not exist` → locus. */
function quotedName(message: string, what: string): string | null {
  return new RegExp(`${what} "([^"]+)"`).exec(message)?.[1] ?? null;
}

/** Safe for a shell line: a plain identifier as it is, anything else in single quotes. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function hint(code: string | undefined, message: string): string | null {
  switch (code) {
    case '3D000': {
      const name = quotedName(message, 'database');
      return `create it first${name ? ` (createdb ${shellWord(name)}, as a PostgreSQL superuser)` : ''}`;
    }
    case '28000': {
      const role = quotedName(message, 'role');
      if (role)
        return `create the role first (createuser ${shellWord(role)}), or name another in DATABASE_URL`;
      return 'check pg_hba.conf and the user in DATABASE_URL';
    }
    case '28P01':
      return 'check the user and password in DATABASE_URL';
    case '55000':
      return 'the database refuses connections (ALTER DATABASE … ALLOW_CONNECTIONS true lets them in)';
    default:
      return null;
  }
}

/**
 * The line to print for an error opening the store, or null when the error is something else (a bug, whose stack
 * should be seen). A line ends with a newline.
 */
export function storeStartupLine(error: unknown): string | null {
  if (!(error instanceof StoreUnavailableError)) return null;
  // A message is one line by construction; a driver's could still hold a newline, which would break the promise.
  const message = error.message.replace(/\s*\n\s*/g, ' ');
  const advice = hint(causeCode(error.cause), message);
  return `locus: ${message}${advice ? `; ${advice}` : ''}\n`;
}
