import type { Logger } from 'pino';
import { buildApp, createAppContext, type App } from './app.js';
import { bootstrapAdminKey } from './auth/api-keys.js';
import { countApiKeys } from './auth/store.js';
import { ConfigError, resolveSecret, type Config } from './config.js';
import { SecretKeys } from './crypto/secrets.js';
import { connectDatabase } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { Invalidations } from './db/invalidation.js';
import { migrate } from './db/migrate.js';
import { ensureActiveKey } from './keys/issuer-keys.js';
import { startSweeper } from './retention/sweeper.js';

export interface RunningIssuer {
  app: App;
  /** Where the HTTP server listens. */
  url: string;
  /** Set when this start created the first admin key; it is shown once and never again. */
  bootstrapAdminKey?: string;
  embedded: boolean;
  /** Stops accepting, lets in-flight requests finish, closes the pool, stops the embedded database. */
  close(): Promise<void>;
}

/** Everything `npm start` does short of signal handling: the tests and the benchmark start the issuer the same way. */
export async function startIssuer(config: Config, logger: Logger | false): Promise<RunningIssuer> {
  const secrets = new SecretKeys(await resolveSecret(config));
  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, (line) => logger && logger.warn(line));
  }
  const database = connectDatabase(config.databaseUrl ?? embedded!.url, config.databasePoolSize);
  const stopDatabase = async () => {
    await database.close();
    await embedded?.stop();
  };
  try {
    if (config.migrateOnStart) {
      const applied = await migrate(database.pool);
      if (applied.length && logger) logger.info({ applied }, 'database migrated');
    }
    let adminKey: string | undefined;
    if (!config.adminApiKey) {
      if (config.env === 'production') {
        if ((await countApiKeys(database.db)) === 0) {
          throw new ConfigError('Invalid configuration: ADMIN_API_KEY is required when NODE_ENV=production and no API key exists yet');
        }
      } else {
        adminKey = await bootstrapAdminKey({ db: database.db, secrets });
      }
    }
    await ensureActiveKey({ db: database.db, secrets, config });
    const invalidations = new Invalidations(config.databaseUrl ?? embedded!.url, (line) => logger && logger.warn(line));
    await invalidations.start();
    const app = await buildApp(createAppContext({ config, database, secrets, invalidations }), { logger });
    app.addHook('onClose', () => invalidations.stop());
    const url = await app.listen({ port: config.port, host: config.host });
    const stopSweeper = startSweeper(database.pool, {
      intervalSeconds: config.retention.sweepIntervalSeconds,
      retentionSeconds: config.retention.retentionSeconds,
      log: (error) => logger && logger.warn({ err: error }, 'sweep failed'),
    });
    return {
      app,
      url,
      bootstrapAdminKey: adminKey,
      embedded: Boolean(embedded),
      async close() {
        await app.close();
        await stopSweeper();
        await stopDatabase();
      },
    };
  } catch (error) {
    await stopDatabase();
    throw error;
  }
}
