import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startTracing, tracingRequested } from './tracing.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : String(error));
  process.exit(1);
}

const logger = createLogger(config);
try {
  // Before the server's modules load (they import pg); OpenTelemetry is not even loaded unless asked for.
  const tracing = tracingRequested(process.env) ? await startTracing() : undefined;
  if (tracing) logger.info('OpenTelemetry tracing is on (OTEL_* settings)');
  const { startIssuer } = await import('./server.js');
  const issuer = await startIssuer(config, logger);
  logger.info({ url: issuer.url, metricsUrl: issuer.metricsUrl, publicUrl: config.publicUrl, embeddedDatabase: issuer.embedded }, 'vci-issuer is listening');
  const auth = issuer.bootstrapAdminKey
    ? `An admin API key was created (it is shown only this once; keep it):\n\n    ${issuer.bootstrapAdminKey}\n`
    : config.adminApiKey
      ? 'Authenticate with the ADMIN_API_KEY you configured.'
      : 'Authenticate with the admin API key printed on first start (or set ADMIN_API_KEY).';
  // For the person who started it, not for a log collector: stderr, never the JSON stream on stdout.
  process.stderr.write(
    `\nvci-issuer is ready at ${config.publicUrl}${config.docs ? `  (docs: ${config.publicUrl}/docs)` : ''}\n` +
      `${auth}\n    curl -H "Authorization: Bearer <key>" ${config.publicUrl}/v1/api-keys\n\n`,
  );
  let stopping = false;
  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    stopping = true;
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await issuer.close();
    await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'the last spans could not be exported'));
    logger.flush();
  });
  // Without its database the service can only answer 503: stop, non-zero, so that whatever
  // supervises it starts it again (and with it the database).
  void issuer.databaseLost?.then(async (what) => {
    // A Ctrl-C in a terminal reaches the database and this process together: that is a stop, not a loss.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (stopping) return;
    const message = `${what}; vci-issuer stops too (start it again to restart both)`;
    logger.fatal(message);
    console.error(message);
    await issuer.close().catch(() => {});
    logger.flush();
    process.exit(1);
  });
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `vci-issuer failed to start: ${(error as Error).message}`;
  logger.fatal(message);
  logger.flush();
  console.error(message);
  process.exit(1);
}
