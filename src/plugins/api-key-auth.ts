import fp from 'fastify-plugin';
import { authenticateApiKey } from '../auth/api-keys.js';
import type { Principal, Role } from '../auth/roles.js';
import type { App } from '../context.js';
import { storedSecret } from '../crypto/stored-secrets.js';
import { HttpError } from '../errors/http.js';
import type { AuditContext } from '../events/audit.js';
import { FailedAuthThrottle } from '../http/auth-throttle.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Failed authentication (API keys, access tokens) per client address; see http/auth-throttle.ts. */
    authThrottle: FailedAuthThrottle;
    /** Routes with `config.roles`, collected as they are registered: the README's role table and the role tests read this. */
    managementRoutes: ManagementRoute[];
  }
  interface FastifyRequest {
    /** The API key's holder, on management routes. */
    principal?: Principal;
    /** Who asked, in which request: recorded with every event the request causes. */
    audit: AuditContext;
  }
  interface FastifyContextConfig {
    /** Management routes: the roles allowed to call it. Absent on public and wallet-facing routes. */
    roles?: readonly Role[];
  }
}

export interface ManagementRoute {
  method: string;
  url: string;
  roles: readonly Role[];
}

/**
 * API-key authentication of management routes (`config.roles`): no valid key is a 401, a key
 * without one of the roles a 403. Every request then gets its audit context, built once here.
 */
export const apiKeyAuth = fp(
  async (app: App) => {
    const managementRoutes: ManagementRoute[] = [];
    app.decorate('managementRoutes', managementRoutes);
    app.addHook('onRoute', (route) => {
      const roles = route.config?.roles;
      if (roles) for (const method of [route.method].flat()) if (method !== 'HEAD') managementRoutes.push({ method, url: route.url, roles });
    });

    const { ctx } = app;
    const throttle = new FailedAuthThrottle(ctx.config.authFailuresPerMinute);
    app.decorate('authThrottle', throttle);
    const adminApiKeyHash = ctx.config.adminApiKey ? storedSecret.apiKey(ctx.secrets, ctx.config.adminApiKey) : undefined;
    app.decorateRequest('audit', null as unknown as AuditContext);
    app.addHook('onRequest', async (request) => {
      const roles = request.routeOptions.config.roles;
      if (roles) {
        const retryAfter = throttle.retryAfterSeconds(request.ip);
        if (retryAfter) {
          throw new HttpError(429, 'Too many failed authentication attempts from this address; retry later', undefined, { 'retry-after': String(retryAfter) });
        }
        const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(request.headers.authorization ?? '');
        const principal = match ? await authenticateApiKey(ctx, match[1]!, adminApiKeyHash) : undefined;
        if (!principal) {
          throttle.recordFailure(request.ip);
          throw new HttpError(401, 'A valid API key is required (Authorization: Bearer <key>)');
        }
        request.principal = principal;
      }
      request.audit = { requestId: request.id, actor: request.principal?.keyId ?? null };
      if (roles && !roles.includes(request.principal!.role)) throw new HttpError(403, `This operation needs one of the roles: ${roles.join(', ')}`);
    });
  },
  { name: 'api-key-auth' },
);
