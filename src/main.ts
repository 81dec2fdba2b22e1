import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startIssuer } from './server.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : String(error));
  process.exit(1);
}

const logger = createLogger(config);
try {
  const issuer = await startIssuer(config, logger);
  logger.info({ url: issuer.url, publicUrl: config.publicUrl, embeddedDatabase: issuer.embedded }, 'vci-issuer is listening');
  const auth = issuer.bootstrapAdminKey
    ? `An admin API key was created (it is shown only this once; keep it):\n\n    ${issuer.bootstrapAdminKey}\n`
    : config.adminApiKey
      ? 'Authenticate with the ADMIN_API_KEY you configured.'
      : 'Authenticate with the admin API key printed on first start (or set ADMIN_API_KEY).';
  process.stdout.write(
    `\nvci-issuer is ready at ${config.publicUrl}  (docs: ${config.publicUrl}/docs)\n` +
      `${auth}\n    curl -H "Authorization: Bearer <key>" ${config.publicUrl}/v1/api-keys\n\n`,
  );
  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await issuer.close();
    logger.flush();
  });
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `vci-issuer failed to start: ${(error as Error).message}`;
  logger.fatal(message);
  logger.flush();
  console.error(message);
  process.exit(1);
}
