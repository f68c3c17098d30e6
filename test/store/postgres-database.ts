/*
 * A private PostgreSQL database per test run: created on the server TEST_DATABASE_URL names and dropped at the
 * end, so runs on the same server (CI and a developer, two terminals) never see each other's rows. Without a
 * reachable server the PostgreSQL tests are skipped, loudly, and everything else still runs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Used when neither TEST_DATABASE_URL nor a postgres DATABASE_URL is set: the server CI and dev machines run. */
const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export type TestServer = { url: string; skip: false } | { url: string; skip: string };

export interface TestDatabase {
  /** The URL of the new, empty database. */
  url: string;
  name: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

function serverUrl(): string {
  const fromDatabaseUrl = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')
    ? process.env.DATABASE_URL
    : undefined;
  return process.env.TEST_DATABASE_URL || fromDatabaseUrl || DEFAULT_SERVER_URL;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {
    // Reported by the query that fails; this only keeps a dropped connection from ending the process.
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let probed: Promise<TestServer> | undefined;

/** The server to test against, or the reason to skip; asked once per process, with a banner when skipping. */
export function findTestServer(): Promise<TestServer> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<TestServer> {
  const url = serverUrl();
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return { url, skip: false };
  } catch (error) {
    const reason = `no PostgreSQL at ${url} (${error instanceof Error ? error.message : String(error)})`;
    const rule = '!'.repeat(100);
    console.warn(
      [
        rule,
        `!! PostgreSQL tests SKIPPED: ${reason}`,
        '!! Set TEST_DATABASE_URL to a server where the tests may create and drop databases.',
        rule,
      ].join('\n'),
    );
    return { url, skip: reason };
  }
}

/** A new empty database on the server at `url`, named after this process so a leftover is easy to trace. */
export async function createTestDatabase(url: string): Promise<TestDatabase> {
  const name = `locus_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  // The name is ours, made of [a-z0-9_] only, so quoting it as an identifier is enough.
  await withClient(url, (client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    url: withDatabase(url, name),
    name,
    drop: async () => {
      await withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Runs `work` with a plain client on `url` (not a Store), for setting up and inspecting a test database. */
export function onDatabase<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(url, work);
}
