import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { App } from '../context.js';
import { credentialRoutes } from '../credentials/routes.js';
import { classifyError } from '../errors/classify.js';
import { OAuthError } from '../errors/oauth.js';
import { renderOAuthError } from '../errors/render.js';
import { BODY_LIMIT_BYTES } from '../http/server-options.js';
import { oauthRoutes } from '../oauth/routes.js';
import { offerReferenceRoutes } from '../offers/routes.js';
import { statusListRoutes } from '../status-lists/routes.js';
import { accessTokenAuth } from './access-token-auth.js';
import { recordFailedRequest } from './audit-failures.js';

/**
 * The wallet-facing endpoints (token, nonce, credential), under PUBLIC_URL's path: errors in the
 * OAuth shape `{ error, error_description }`, a rate limit per client address, and form bodies for
 * the token endpoint only (RFC 6749; the credential endpoint takes JSON).
 */
export async function walletScope(app: App) {
  // Per client address and per instance (see README, "Guarantees"); the security-critical limit,
  // transaction-code attempts per offer, is enforced in the database.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new OAuthError('temporarily_unavailable', `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`, 429, {
        'retry-after': String(Math.ceil(context.ttl / 1000)),
      }),
  });
  await app.register(accessTokenAuth);
  app.setErrorHandler(async (error, request, reply) => {
    const failure = classifyError(error);
    await recordFailedRequest(app, request, error, failure);
    return renderOAuthError(failure, error, request, reply);
  });
  await app.register(async (formScope: App) => {
    await formScope.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
    await formScope.register(oauthRoutes);
  });
  await app.register(credentialRoutes);
  await app.register(offerReferenceRoutes);
  await app.register(statusListRoutes);
}
