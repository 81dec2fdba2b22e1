import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { withDatabase } from '../../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { freePort } from '../../src/net.js';

// Where the tests and the benchmark get their PostgreSQL servers and databases.

export interface PostgresServer {
  /** A URL of the server (any database) on which databases may be created. */
  url: string;
  /** True when it is a throwaway embedded server of our own. */
  embedded: boolean;
  /** Stops an embedded server and deletes its data; leaves a given server alone. */
  stop(): Promise<void>;
}

/** The server at `url` when one is given; otherwise a throwaway embedded PostgreSQL in a temporary directory. */
export async function startPostgresServer(url: string | undefined, tempPrefix: string): Promise<PostgresServer> {
  if (url) return { url, embedded: false, stop: async () => {} };
  const dataDir = await mkdtemp(path.join(tmpdir(), tempPrefix));
  const server = await startEmbeddedPostgres(dataDir);
  return {
    url: server.url,
    embedded: true,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function onServer<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface CreatedDatabase {
  name: string;
  url: string;
  /** Drops it, disconnecting whoever is still on it. */
  drop(): Promise<void>;
}

/**
 * A new database on the server: empty, or a copy of `template`; with `migrate`, the migrations run
 * on it. Names are SQL identifiers made by the caller (letters, digits, underscores).
 */
export async function createDatabase(serverUrl: string, name: string, options: { template?: string; migrate?: boolean } = {}): Promise<CreatedDatabase> {
  await onServer(serverUrl, async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${options.template}` : ''}`);
        return;
      } catch (error) {
        // Two test files cloning the template at the same instant: "source database is being accessed by other users".
        if (attempt > 30 || (error as { code?: string }).code !== '55006') throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  });
  const url = withDatabase(serverUrl, name);
  if (options.migrate) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    await migrate(pool).finally(() => pool.end());
  }
  return { name, url, drop: () => dropDatabases(serverUrl, [name]) };
}

/** Drops the databases named, and with `{ prefix }` every database whose name starts with it. */
export async function dropDatabases(serverUrl: string, names: string[] | { prefix: string }): Promise<void> {
  await onServer(serverUrl, async (client) => {
    const targets = Array.isArray(names)
      ? names
      : (await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [names.prefix])).rows.map((row) => row.datname);
    for (const name of targets) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** The machine's own PostgreSQL. Fault tests stop and start servers: never that one. */
const SYSTEM_POSTGRES_PORT = 5432;

export interface OwnPostgres {
  url: string;
  port: number;
  /** A pool for the test's own checks (separate from the issuer's). */
  pool: pg.Pool;
  /** Fast shutdown (SIGINT): sessions are terminated, open transactions roll back. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and the same port. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (embedded, in a temporary directory, on a pinned loopback
 * port), so that a fault test can stop and restart it without touching any other server.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vci-issuer-fault-'));
  const port = await freePort();
  if (port === SYSTEM_POSTGRES_PORT) throw new Error('refusing to run a fault test on port 5432');
  let server: EmbeddedDatabase | undefined = await startEmbeddedPostgres(dataDir, () => {}, { port });
  const url = server.url;
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    url,
    port,
    pool,
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      if (server) return;
      server = await startEmbeddedPostgres(dataDir, () => {}, { port });
      if (server.url !== url) throw new Error(`PostgreSQL came back at ${server.url}, not ${url}`);
    },
    async destroy() {
      await pool.end().catch(() => {});
      await server?.stop();
      server = undefined;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
