import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { apiKeyRoutes } from './auth/routes.js';
import { configurationRoutes } from './configurations/routes.js';
import type { App, AppContext } from './context.js';
import { eventRoutes } from './events/routes.js';
import { healthRoutes } from './health/routes.js';
import { iacaRoutes } from './iacas/routes.js';
import { serverOptions } from './http/server-options.js';
import { issuedCredentialRoutes } from './issued-credentials/routes.js';
import { keyRoutes } from './keys/routes.js';
import { metadataRoutes } from './metadata/routes.js';
import { offerRoutes } from './offers/routes.js';
import { apiKeyAuth } from './plugins/api-key-auth.js';
import { connections } from './plugins/connections.js';
import { corsPolicies } from './plugins/cors.js';
import { inputLimits } from './plugins/input-limits.js';
import { managementErrors } from './plugins/management-errors.js';
import { openApi } from './plugins/openapi.js';
import { requestLogging } from './plugins/request-logging.js';
import { requestMetrics } from './plugins/request-metrics.js';
import { securityHeaders } from './plugins/security-headers.js';
import { walletScope } from './plugins/wallet-scope.js';
import { userRoutes } from './users/routes.js';
import { webhookRoutes } from './webhooks/routes.js';

/** The HTTP application: the service's plugins, then each domain's routes. */
export async function buildApp(ctx: AppContext, options: { logger?: Logger | false } = {}): Promise<App> {
  const app = Fastify(serverOptions(ctx.config, options.logger)).withTypeProvider<ZodTypeProvider>();
  app.decorate('ctx', ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(securityHeaders);
  await app.register(requestLogging);
  await app.register(requestMetrics);
  await app.register(connections);
  await app.register(inputLimits);
  await app.register(corsPolicies);
  await app.register(apiKeyAuth);
  await app.register(managementErrors);
  await app.register(openApi);

  await app.register(healthRoutes);
  await app.register(apiKeyRoutes);
  await app.register(eventRoutes);
  await app.register(keyRoutes);
  await app.register(iacaRoutes);
  await app.register(configurationRoutes);
  await app.register(userRoutes);
  await app.register(offerRoutes);
  await app.register(issuedCredentialRoutes);
  await app.register(metadataRoutes);
  await app.register(webhookRoutes);
  await app.register(walletScope, { prefix: new URL(ctx.config.publicUrl).pathname.replace(/\/$/, '') });
  return app;
}
