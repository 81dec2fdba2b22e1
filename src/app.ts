import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { Logger } from 'pino';
import { API_KEY_TOPIC, authenticateApiKey, hashApiKey } from './auth/api-keys.js';
import type { Principal, Role } from './auth/roles.js';
import { apiKeyRoutes } from './auth/routes.js';
import type { Config } from './config.js';
import type { SecretKeys } from './crypto/secrets.js';
import type { DatabaseHandle, Db } from './db/database.js';
import { InvalidatedCache, type Invalidations } from './db/invalidation.js';
import type { Configuration } from './configurations/schemas.js';
import { CONFIGURATION_TOPIC } from './configurations/store.js';
import { recordFailure } from './events/record.js';
import { configurationRoutes } from './configurations/routes.js';
import { credentialRoutes } from './credentials/routes.js';
import { metadataRoutes } from './metadata/routes.js';
import { oauthRoutes } from './oauth/routes.js';
import { eventRoutes } from './events/routes.js';
import { offerRoutes } from './offers/routes.js';
import { userRoutes } from './users/routes.js';
import { healthRoutes } from './health/routes.js';
import { keyRoutes } from './keys/routes.js';
import { ApiError, managementErrorSchema, sendManagementError } from './http/errors.js';
import { OAuthError, sendOAuthError } from './http/oauth-errors.js';

export interface AppContext {
  config: Config;
  db: Db;
  pool: pg.Pool;
  secrets: SecretKeys;
  /** Copies of rarely changing rows on the hot path, invalidated across instances by LISTEN/NOTIFY. */
  caches: {
    apiKeys: InvalidatedCache<Principal>;
    configurations: InvalidatedCache<Configuration>;
  };
}

/** The context every route and the benchmark's SQL ceiling use. `invalidations` must be started for the caches to be used. */
export function createAppContext(parts: { config: Config; database: DatabaseHandle; secrets: SecretKeys; invalidations: Invalidations }): AppContext {
  return {
    config: parts.config,
    db: parts.database.db,
    pool: parts.database.pool,
    secrets: parts.secrets,
    caches: {
      apiKeys: new InvalidatedCache<Principal>(parts.invalidations, API_KEY_TOPIC),
      configurations: new InvalidatedCache<Configuration>(parts.invalidations, CONFIGURATION_TOPIC),
    },
  };
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    managementRoutes: ManagementRoute[];
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Management routes: the roles allowed to call it. Absent on public and wallet-facing routes. */
    roles?: readonly Role[];
  }
}

export const BODY_LIMIT_BYTES = 500 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Paths and keys pino must never print (values are replaced, the keys stay visible). */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'key',
  '*.key',
  'apiKey',
  'pre-authorized_code',
  '*["pre-authorized_code"]',
  'tx_code',
  '*.tx_code',
  'transactionCode',
  '*.transactionCode',
  'access_token',
  '*.access_token',
  'c_nonce',
  '*.c_nonce',
  'proof',
  '*.proof',
  'proofs',
  '*.proofs',
  'claims',
  '*.claims',
  'credential',
  '*.credential',
];

/** Routes with `config.roles`, collected as they are registered: the README's role table and the role tests read this. */
export interface ManagementRoute {
  method: string;
  url: string;
  roles: readonly Role[];
}

export async function buildApp(ctx: AppContext, options: { logger?: Logger | false } = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: (options.logger || undefined) as FastifyBaseLogger | undefined,
    bodyLimit: BODY_LIMIT_BYTES,
    // One log line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false } },
    trustProxy: ctx.config.trustProxy,
    // While closing, a request that still arrives on an open keep-alive connection is served (and its
    // connection closed, see onSend) rather than answered with Fastify's own 503 body.
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();

  app.decorate('ctx', ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Management routes speak JSON only; the OAuth scope adds form bodies for itself.
  app.removeContentTypeParser('text/plain');

  const managementRoutes: ManagementRoute[] = [];
  app.decorate('managementRoutes', managementRoutes);
  app.addHook('onRoute', (route) => {
    const roles = route.config?.roles;
    if (roles) for (const method of [route.method].flat()) if (method !== 'HEAD') managementRoutes.push({ method, url: route.url, roles });
  });

  const adminApiKeyHash = ctx.config.adminApiKey ? hashApiKey(ctx.secrets, ctx.config.adminApiKey) : undefined;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const roles = request.routeOptions.config.roles;
    if (!roles) return;
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(request.headers.authorization ?? '');
    const principal = match ? await authenticateApiKey({ db: ctx.db, secrets: ctx.secrets, cache: ctx.caches.apiKeys, adminApiKeyHash }, match[1]!) : undefined;
    if (!principal) throw new ApiError(401, 'A valid API key is required (Authorization: Bearer <key>)');
    request.principal = principal;
    if (!roles.includes(principal.role)) throw new ApiError(403, `This operation needs one of the roles: ${roles.join(', ')}`);
  });

  // Graceful stop: the server stops accepting and closes idle connections, but a keep-alive
  // connection that becomes idle after its in-flight response would hold `close()` open until the
  // client drops it (for up to keepAliveTimeout, 72 s: past the shutdown deadline). Every response
  // sent while closing therefore closes its connection.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('strict-transport-security', 'max-age=31536000');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (reply.statusCode !== 401 && !(error instanceof ApiError && error.statusCode === 401)) await recordFailure(ctx.db, request, error);
    return sendManagementError(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) => sendManagementError(new ApiError(404, `Route ${request.method} ${request.url.split('?')[0]} not found`), request, reply));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'vci-issuer',
        version: '0.1.0',
        description: 'OpenID4VCI credential issuer with a MATTR VII compatible management API.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'Management API key' },
          accessToken: { type: 'http', scheme: 'bearer', description: 'Access token from the token endpoint' },
        },
      },
    },
    transform: (input) => {
      if (input.route.config?.roles && input.schema) {
        // Every management route can answer with these, in the one management error shape.
        const errors = { 400: managementErrorSchema, 401: managementErrorSchema, 403: managementErrorSchema };
        input = { ...input, schema: { ...input.schema, response: { ...errors, ...(input.schema.response as object) } } };
      }
      const transformed = jsonSchemaTransform(input);
      if (input.route.config?.roles) {
        const schema = transformed.schema as Record<string, unknown>;
        schema.security = [{ apiKey: [] }];
        schema.description = [schema.description, `Roles: ${input.route.config.roles.join(', ')}.`].filter(Boolean).join('\n\n');
      }
      return transformed;
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes);
  await app.register(apiKeyRoutes);
  await app.register(eventRoutes);
  // (domain routes are registered here)
  await app.register(keyRoutes);
  await app.register(configurationRoutes);
  await app.register(userRoutes);
  await app.register(offerRoutes);

  await app.register(metadataRoutes);
  // Wallet-facing routes, under PUBLIC_URL's path: OAuth error bodies, form-encoded bodies.
  await app.register(
    async (oauthScope) => {
      await oauthScope.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
      // Per client address and per instance (see README, "Guarantees"); the security-critical limit,
      // transaction-code attempts per offer, is enforced in the database.
      await oauthScope.register(rateLimit, {
        global: false,
        errorResponseBuilder: (_request, context) =>
          new OAuthError('slow_down', `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`, 429, {
            'retry-after': String(Math.ceil(context.ttl / 1000)),
          }),
      });
      oauthScope.setErrorHandler(async (error, request, reply) => {
        // As on management routes, requests without valid credentials leave no events behind.
        if ((error as { statusCode?: number }).statusCode !== 401) await recordFailure(ctx.db, request, error);
        return sendOAuthError(error, request, reply);
      });
      await oauthScope.register(oauthRoutes);
      await oauthScope.register(credentialRoutes);
    },
    { prefix: new URL(ctx.config.publicUrl).pathname.replace(/\/$/, '') },
  );

  return app;
}
