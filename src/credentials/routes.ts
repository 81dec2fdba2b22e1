import type { App } from '../context.js';
import { OAuthError } from '../errors/oauth.js';
import { oauthErrorSchema } from '../errors/render.js';
import { WALLET_PATHS } from '../protocol.js';
import { CREDENTIAL_EVENTS, authenticateAccessToken, issueCredentials } from './issue-credential.js';
import { credentialErrorSchema, credentialRequestSchema, credentialResponseSchema } from './schemas.js';
import type { AccessTokenGrant } from './store.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The credential endpoint: what the access token grants. */
    accessGrant?: AccessTokenGrant;
  }
}

/** The credential endpoint; registered inside the wallet-facing scope, under PUBLIC_URL's path. */
export async function credentialRoutes(app: App) {
  app.post(
    WALLET_PATHS.credential,
    {
      config: { event: CREDENTIAL_EVENTS.issue, oauthValidationError: 'invalid_credential_request' },
      // The token is checked before the body, so a bad token is a 401 whatever the body holds.
      onRequest: async (request) => {
        const retryAfter = app.authThrottle.retryAfterSeconds(request.ip);
        if (retryAfter) throw new OAuthError('slow_down', 'Too many failed authentication attempts from this address; retry later', 429, { 'retry-after': String(retryAfter) });
        try {
          request.accessGrant = await authenticateAccessToken(app.ctx, request.headers.authorization);
        } catch (error) {
          if (error instanceof OAuthError && error.statusCode === 401) app.authThrottle.recordFailure(request.ip);
          throw error;
        }
      },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'Credential endpoint: a key-bound credential per proof (OpenID4VCI 1.0 and draft 13 requests)',
        security: [{ accessToken: [] }],
        body: credentialRequestSchema,
        // Not the plain OAuth error schema for 400: serialising through it would strip draft 13's c_nonce.
        response: { 200: credentialResponseSchema, 400: credentialErrorSchema, 401: oauthErrorSchema },
      },
    },
    async (request, reply) => reply.header('cache-control', 'no-store').send(await issueCredentials(app.ctx, request.audit, request.accessGrant!, request.body)),
  );
}
