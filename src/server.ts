import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { bootstrapAdminKey } from './auth/api-keys.js';
import { countActiveAdminKeys } from './auth/store.js';
import { ConfigError, resolveSecret, type Config } from './config.js';
import { createAppContext, type App, type AppContext } from './context.js';
import { SecretKeys, SecretUnknownError } from './crypto/secrets.js';
import { connectDatabase } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { Invalidations } from './db/invalidation.js';
import { migrate } from './db/migrate.js';
import { resealIacaKeys } from './iacas/use-cases.js';
import { ensureActiveKey, resealIssuerKeys } from './keys/issuer-keys.js';
import { startMetricsServer } from './metrics/server.js';
import { startSweeper } from './retention/sweeper.js';
import { resealWebhookSecrets } from './webhooks/use-cases.js';
import { WEBHOOK_METRIC_OUTCOME, startWebhookWorker } from './webhooks/worker.js';

export interface RunningIssuer {
  app: App;
  ctx: AppContext;
  /** Where the HTTP server listens (empty when started with `listen: false`). */
  url: string;
  /** Where GET /metrics is served (empty when started with `listen: false`). */
  metricsUrl: string;
  /** Set when this start created the first admin key; it is shown once and never again. */
  bootstrapAdminKey?: string;
  embedded: boolean;
  /** With the embedded database: settles if that database goes away without being stopped. */
  databaseLost?: Promise<string>;
  /** Stops accepting, lets in-flight requests finish, closes the pool, stops the embedded database. */
  close(): Promise<void>;
}

/**
 * Everything `npm start` does short of signal handling: the database (embedded or DATABASE_URL), its
 * migrations, the first admin key, the first signing key, cache invalidation, the HTTP server and
 * the sweeper. The tests and the benchmark start the issuer with this too; `listen: false` skips
 * only the listening (requests are then injected).
 */
export async function startIssuer(config: Config, logger: Logger | false, options: { listen?: boolean } = {}): Promise<RunningIssuer> {
  const secrets = new SecretKeys(await resolveSecret(config), config.previousSecret);
  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, (line) => logger && logger.warn(line));
  }
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const database = connectDatabase(databaseUrl, config.databasePoolSize);
  const invalidations = new Invalidations(databaseUrl, (line) => logger && logger.warn(line));
  const stopDatabase = async () => {
    await invalidations.stop();
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
        if ((await countActiveAdminKeys(database.db)) === 0) {
          throw new ConfigError('Invalid configuration: ADMIN_API_KEY is required when NODE_ENV=production and no active admin API key exists');
        }
      } else {
        adminKey = await bootstrapAdminKey({ db: database.db, secrets });
      }
    }
    // Sealed values (private keys, webhook secrets) move to a rotated SECRET at once; one that neither secret opens stops the start here.
    try {
      const deps = { db: database.db, secrets };
      const resealed = (await resealIssuerKeys(deps)) + (await resealIacaKeys(deps)) + (await resealWebhookSecrets(deps));
      if (resealed && logger) logger.info({ resealed }, 'private keys and webhook secrets sealed again under the new SECRET');
    } catch (error) {
      if (!(error instanceof SecretUnknownError)) throw error;
      throw new ConfigError(`Invalid configuration: a stored private key or webhook secret is ${error.message}; set SECRET_PREVIOUS to the secret it was sealed with`);
    }
    await ensureActiveKey({ db: database.db, secrets, config });
    await invalidations.start();
    const ctx = createAppContext({ config, database, secrets, invalidations });
    const app = await buildApp(ctx, { logger });
    const url = options.listen === false ? '' : await app.listen({ port: config.port, host: config.host });
    if (options.listen === false) await app.ready();
    const metricsServer = options.listen === false ? undefined : await startMetricsServer(config, ctx.metrics).catch(async (error) => {
      await app.close();
      throw error;
    });
    const stopSweeper = startSweeper(database.pool, {
      intervalSeconds: config.retention.sweepIntervalSeconds,
      retentionSeconds: config.retention.retentionSeconds,
      eventRetentionSeconds: config.retention.eventRetentionSeconds,
      swept: (result) => ctx.metrics.sweep(result),
      log: (error) => {
        ctx.metrics.sweepFailed();
        if (logger) logger.warn({ err: error }, 'sweep failed');
      },
    });
    const stopWebhooks = startWebhookWorker({
      ...ctx,
      onOutcome: (outcome) => {
        if (logger) logger[outcome.outcome === 'failed' ? 'warn' : outcome.outcome === 'delivered' ? 'debug' : 'info'](outcome, 'webhook delivery');
        if (outcome.outcome !== 'dropped') ctx.metrics.webhookDelivery(WEBHOOK_METRIC_OUTCOME[outcome.outcome]);
        for (const listener of ctx.webhookDeliveryListeners) listener(outcome);
      },
      log: (error, message) => logger && logger.warn({ err: error }, message),
    });
    return {
      app,
      ctx,
      url,
      metricsUrl: metricsServer?.url ?? '',
      bootstrapAdminKey: adminKey,
      embedded: Boolean(embedded),
      databaseLost: embedded?.lost,
      async close() {
        await app.close();
        await metricsServer?.close();
        await stopSweeper();
        await stopWebhooks();
        await stopDatabase();
      },
    };
  } catch (error) {
    await stopDatabase();
    throw error;
  }
}
