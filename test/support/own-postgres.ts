import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { freePort } from '../../src/net.js';

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
