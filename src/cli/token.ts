import { Command } from 'commander';
import { DATABASE_URL_HELP } from '../config.js';
import { isUserId, normalUserId } from '../schemas/ajv.js';
import { MAX_USER_ID_LENGTH } from '../ingest/limits.js';
import { openStore } from '../store/backends.js';
import type { TokenRecord, TokenStore } from '../store/store.js';
import { flagIfGiven, loadConfigNamingFlags, usageError } from './usage.js';

/** Where the command writes and what it reads; tests pass their own. */
export interface TokenIo {
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

interface DatabaseFlags {
  databaseUrl?: string;
}

interface CreateFlags extends DatabaseFlags {
  user?: string;
  admin?: boolean;
  label?: string;
}

const DATABASE_OPTION = ['--database-url <url>', DATABASE_URL_HELP] as const;

/** Runs `work` on the tokens of the database the flags (else the environment) name, then closes it. */
async function withTokens<T>(
  flags: DatabaseFlags,
  io: TokenIo,
  work: (tokens: TokenStore) => Promise<T>,
): Promise<T> {
  const env = io.env ?? process.env;
  const { database } = loadConfigNamingFlags(
    { DATABASE_URL: flags.databaseUrl ?? env.DATABASE_URL },
    { DATABASE_URL: flagIfGiven(flags.databaseUrl, '--database-url') },
  );
  const store = await openStore(database);
  try {
    return await work(store.tokens);
  } finally {
    await store.close();
  }
}

function checkUser(command: Command, flags: CreateFlags): string | null {
  if (flags.admin && flags.user !== undefined)
    usageError(command, 'error: an admin token is for every user: give --admin or --user, not both');
  if (flags.admin) return null;
  // The id in Unicode NFC, as points are stored under it (src/ingest/compose.ts); its length in code points.
  const user = flags.user === undefined ? undefined : normalUserId(flags.user);
  if (user === undefined) return usageError(command, 'error: give --user <id> (or --admin for every user)');
  const length = [...user].length;
  if (length === 0 || length > MAX_USER_ID_LENGTH || !isUserId(user))
    usageError(
      command,
      'error: --user must be 1–128 characters with no control characters, no format or bidi characters, not . or ..',
    );
  return user;
}

function createCommand(io: TokenIo): Command {
  return new Command('create')
    .description('make a token and print it once (only its hash is stored)')
    .option('--user <id>', 'the user_id the token writes and reads as')
    .option('--admin', 'a token that may write and read every user')
    .option('--label <text>', 'a note for `token list`, e.g. the device')
    .option(...DATABASE_OPTION)
    .action(async (flags: CreateFlags, command: Command) => {
      const userId = checkUser(command, flags);
      const { newSecret } = await import('../auth/tokens.js');
      const secret = newSecret();
      const record = await withTokens(flags, io, (tokens) =>
        tokens.create({
          id: secret.id,
          hash: secret.hash,
          userId,
          scope: userId === null ? 'admin' : 'user',
          label: flags.label ?? null,
          createdMs: (io.now ?? Date.now)(),
        }),
      );
      // The token alone on stdout, so that `TOKEN=$(locus token create --user a1)` works; the rest on stderr.
      (io.stdout ?? process.stdout).write(`${secret.token}\n`);
      const who = record.userId === null ? 'every user (admin)' : `user ${JSON.stringify(record.userId)}`;
      (io.stderr ?? process.stderr).write(
        `locus: token ${record.id} for ${who} created. It is shown only this once: keep it now.\n`,
      );
    });
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** The token list as aligned columns; never the token or its hash, which are not stored / not useful. */
export function tokenTable(records: readonly TokenRecord[]): string {
  const header = ['ID', 'USER', 'SCOPE', 'LABEL', 'CREATED', 'REVOKED'];
  const rows = records.map((t) => [
    t.id,
    t.userId ?? '*',
    t.scope,
    t.label ?? '-',
    iso(t.createdMs),
    iso(t.revokedMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function listCommand(io: TokenIo): Command {
  return new Command('list')
    .description('list the tokens (id, user, scope, label, created, revoked), never the tokens themselves')
    .option(...DATABASE_OPTION)
    .action(async (flags: DatabaseFlags) => {
      const records = await withTokens(flags, io, (tokens) => tokens.list());
      (io.stdout ?? process.stdout).write(`${tokenTable(records)}\n`);
    });
}

function revokeCommand(io: TokenIo): Command {
  return new Command('revoke')
    .description('revoke a token by its id; running servers refuse it within 30 s (their token cache)')
    .argument('<id>', 'the token id, as `token list` shows it')
    .option(...DATABASE_OPTION)
    .action(async (id: string, flags: DatabaseFlags, command: Command) => {
      const revoked = await withTokens(flags, io, (tokens) => tokens.revoke(id, (io.now ?? Date.now)()));
      if (!revoked) command.error(`error: there is no token ${JSON.stringify(id)} (see locus token list)`);
      (io.stderr ?? process.stderr).write(`locus: token ${id} revoked\n`);
    });
}

/** `locus token create|list|revoke`: API tokens, straight in the database (no server needed). */
export function tokenCommand(io: TokenIo = {}): Command {
  return new Command('token')
    .description('create, list and revoke API tokens (used when AUTH=on)')
    .addCommand(createCommand(io))
    .addCommand(listCommand(io))
    .addCommand(revokeCommand(io));
}
