import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { App, AppContext } from '../../src/context.js';
import type { SecretKeys } from '../../src/crypto/secrets.js';
import type { Db } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from '../../src/net.js';
import { startIssuer } from '../../src/server.js';
import { IssuerClient, injectTransport } from './client.js';
import { createDatabase, type CreatedDatabase } from './databases.js';
import { Tables } from './tables.js';

/** A fresh database cloned from the migrated template. */
export async function createTestDatabase(): Promise<CreatedDatabase> {
  const template = inject('templateDatabase');
  return createDatabase(inject('serverUrl'), `${template}_${randomBytes(6).toString('hex')}`, { template });
}

export interface TestIssuer {
  app: App;
  ctx: AppContext;
  config: Config;
  database: { pool: pg.Pool; db: Db };
  databaseUrl: string;
  adminKey: string;
  /** The management API (as the admin) and the wallet endpoints, through app.inject. */
  client: IssuerClient;
  /** What its tables hold. */
  tables: Tables;
  secrets: SecretKeys;
  /** Every log line the app wrote. */
  logs: string[];
  /** Base URL when started with `listen: true`. */
  url: string;
  /** GET /metrics when started with `listen: true`. */
  metricsUrl: string;
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/**
 * The issuer as `npm start` starts it (`startIssuer`), on a database of its own (or a shared one, to
 * run several instances). `listen: true` serves real HTTP on 127.0.0.1; otherwise `app.inject` still
 * runs the whole Fastify stack (parsing, hooks, validation, serialisation). `publicPath` gives the
 * default PUBLIC_URL a path, as a tenant of a shared host has.
 */
export async function startTestIssuer(
  options: { env?: Record<string, string>; listen?: boolean; databaseUrl?: string; publicUrl?: string; publicPath?: string; logLevel?: string } = {},
): Promise<TestIssuer> {
  const own = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? own!.url;
  const adminKey = `test-admin-${randomBytes(16).toString('hex')}`;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const port = options.listen ? await freePort() : 0;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    ADMIN_API_KEY: adminKey,
    SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: options.publicUrl ?? `${options.listen ? `http://127.0.0.1:${port}` : 'https://issuer.example.com'}${options.publicPath ?? ''}`,
    DATABASE_POOL_SIZE: '5',
    LOG_LEVEL: (options.logLevel ?? 'info') as never,
    // Any free port: several issuers run at once.
    METRICS_PORT: '0',
    ...options.env,
  });
  const logger = createLogger(config, sink);
  const issuer = await startIssuer(config, logger, { listen: Boolean(options.listen) });
  return {
    app: issuer.app,
    ctx: issuer.ctx,
    config,
    database: { pool: issuer.ctx.pool, db: issuer.ctx.db },
    databaseUrl,
    adminKey,
    client: new IssuerClient(injectTransport(issuer.app), adminKey),
    tables: new Tables(issuer.ctx.pool),
    secrets: issuer.ctx.secrets,
    logs,
    url: issuer.url,
    metricsUrl: issuer.metricsUrl,
    async close() {
      await issuer.close();
      await own?.drop();
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
