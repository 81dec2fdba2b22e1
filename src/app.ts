import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest, type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
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
import { isDatabaseUnavailable } from './db/database.js';
import { ApiError, managementErrorSchema, sendManagementError } from './http/errors.js';
import { refuseUnstorableText, useDepthLimitedJsonParser } from './http/input-limits.js';
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
    /** The Credential Issuer metadata document, rebuilt only after a configuration changes. */
    issuerMetadata: InvalidatedCache<Record<string, unknown>>;
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
      issuerMetadata: new InvalidatedCache<Record<string, unknown>>(parts.invalidations, CONFIGURATION_TOPIC, { wholeTopic: true }),
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

/** Sent with every response, including those Fastify writes before routing. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000',
};

/** Paths (below PUBLIC_URL's path) answered in the OAuth error shape. */
const WALLET_PATHS = /^\/v1\/(oauth\/|openid\/(nonce|credential)(\/|\?|$))/;

/** Failures that leave no START/FAIL events: no valid credentials (401), shed load (429), or no database to write to. */
function recordsFailure(error: unknown, replyStatus: number): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return replyStatus !== 401 && status !== 401 && status !== 429 && !isDatabaseUnavailable(error);
}

export async function buildApp(ctx: AppContext, options: { logger?: Logger | false } = {}): Promise<App> {
  const walletPrefix = new URL(ctx.config.publicUrl).pathname.replace(/\/$/, '');
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
    // A URL Fastify cannot route (bad percent-encoding, an over-long path parameter): 4xx in the documented shapes.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long' : 'The URL is not valid (bad percent-encoding)';
      const path = request.url.startsWith(walletPrefix) ? request.url.slice(walletPrefix.length) : request.url;
      reply.status(status).headers(SECURITY_HEADERS).header('cache-control', 'no-store');
      if (WALLET_PATHS.test(path)) reply.send({ error: 'invalid_request', error_description: message });
      else reply.send({ code: 'BadRequest', message });
    },
    // Bytes that are not HTTP at all: answered in the management error shape, then the connection is closed.
    clientErrorHandler: (error, socket) => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) return;
      const code = (error as NodeJS.ErrnoException).code;
      const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({ code: 'BadRequest', message: 'Malformed HTTP request' });
      const headers = { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`);
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.decorate('ctx', ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Management routes speak JSON only; the OAuth scope adds form bodies for itself.
  app.removeContentTypeParser('text/plain');
  // JSON bodies nested deeper than MAX_JSON_DEPTH are refused before parsing; `__proto__` keys are refused too.
  useDepthLimitedJsonParser(app);
  // No parameter or body value may hold a character PostgreSQL cannot store (U+0000, lone surrogates).
  app.addHook('preValidation', refuseUnstorableText);

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
    reply.headers(SECURITY_HEADERS);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    // Query strings are logged for management routes only (filters, cursors); elsewhere a careless
    // wallet may put a code or token there, so only the path is logged.
    const url = request.routeOptions.config?.roles ? request.url : request.url.split('?')[0];
    request.log.info(
      { method: request.method, url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (recordsFailure(error, reply.statusCode)) await recordFailure(ctx.db, request, error);
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
        // As on management routes, requests without valid credentials, or refused by the rate limit, leave no events behind.
        if (recordsFailure(error, reply.statusCode)) await recordFailure(ctx.db, request, error);
        return sendOAuthError(error, request, reply);
      });
      // Form bodies for the token endpoint (RFC 6749) only; the credential endpoint takes JSON.
      await oauthScope.register(async (formScope) => {
        await formScope.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
        await formScope.register(oauthRoutes);
      });
      await oauthScope.register(credentialRoutes);
    },
    { prefix: walletPrefix },
  );

  return app;
}
