import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

// Return bigint identity columns as strings and timestamps as Dates (pg's defaults), but keep
// NUMERIC/INT8 from turning into floats silently.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

/** The same connection URL, pointing at another database on that server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface DatabaseHandle {
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

export function connectDatabase(url: string, poolSize: number): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Fail fast while the database is away instead of queueing requests for ever.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
    application_name: 'vci-issuer',
  });
  // A client losing its connection (database restart, failover) must not crash the process. Idle
  // clients report it through the pool; a checked-out client emits 'error' on itself, and pg-pool
  // listens only while the client is idle, so without a listener of our own that event is an
  // uncaught exception that takes the whole service down. The query in flight still fails (→ 503),
  // and the broken client is discarded when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ran a query itself; `npm run migrate` uses the pool alone,
      // and its idle connection would keep the process alive for idleTimeoutMillis.
      if (!pool.ended) await pool.end();
    },
  };
}

const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The pool found no free connection within its connection timeout: every connection is busy with
 * other requests. The database itself may be up and well; this instance is at capacity.
 */
export function isPoolSaturated(error: unknown): boolean {
  return error instanceof Error && error.message === 'timeout exceeded when trying to connect';
}

/** True when an error means "the database cannot be used right now" (down, or every connection busy) rather than a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
    error.message,
  );
}
