import type Database from 'better-sqlite3';
import { settle } from './sqlite-db.js';
import type { NewToken, TokenRecord, TokenScope, TokenStore } from '../store.js';

interface TokenRow {
  id: string;
  userId: string | null;
  scope: string;
  label: string | null;
  createdMs: number;
  revokedMs: number | null;
}

const COLUMNS = `id, user_id AS userId, scope, label, created_ms AS createdMs, revoked_ms AS revokedMs`;

function tokenRecord(row: TokenRow): TokenRecord {
  // The CHECK constraint admits only these two.
  return { ...row, scope: row.scope as TokenScope };
}

/*
 * Tokens on the store's reading connection. Creating and revoking are rare (the CLI), so they do not go through
 * the writer thread; they take the write lock like any other connection and wait out the busy timeout.
 */
export class SqliteTokenStore implements TokenStore {
  readonly #insert: Database.Statement<NewToken>;
  readonly #byHash: Database.Statement<[string], TokenRow>;
  readonly #all: Database.Statement<[], TokenRow>;
  readonly #revoke: Database.Statement<[number, string]>;
  /** Runs before each use of the connection and throws when it must not be used (sqlite-files.ts). */
  readonly #guard: () => void;

  constructor(db: Database.Database, guard: () => void = () => {}) {
    this.#guard = guard;
    this.#insert = db.prepare<NewToken>(`
      INSERT INTO tokens (id, hash, user_id, scope, label, created_ms, revoked_ms)
      VALUES (@id, @hash, @userId, @scope, @label, @createdMs, NULL)`);
    this.#byHash = db.prepare<[string], TokenRow>(`SELECT ${COLUMNS} FROM tokens WHERE hash = ?`);
    this.#all = db.prepare<[], TokenRow>(`SELECT ${COLUMNS} FROM tokens ORDER BY created_ms, id`);
    this.#revoke = db.prepare<[number, string]>(
      'UPDATE tokens SET revoked_ms = coalesce(revoked_ms, ?) WHERE id = ?',
    );
  }

  create(token: NewToken): Promise<TokenRecord> {
    return settle(() => {
      this.#guard();
      this.#insert.run(token);
      const { id, userId, scope, label, createdMs } = token;
      return { id, userId, scope, label, createdMs, revokedMs: null };
    });
  }

  findByHash(hash: string): Promise<TokenRecord | null> {
    return settle(() => {
      this.#guard();
      const row = this.#byHash.get(hash);
      return row ? tokenRecord(row) : null;
    });
  }

  list(): Promise<TokenRecord[]> {
    return settle(() => {
      this.#guard();
      return this.#all.all().map(tokenRecord);
    });
  }

  revoke(id: string, atMs: number): Promise<boolean> {
    return settle(() => {
      this.#guard();
      return this.#revoke.run(atMs, id).changes > 0;
    });
  }
}
