import type { App } from '../app.js';
import { eventContext, eventKindOf } from '../events/record.js';
import { oauthErrorSchema } from '../http/oauth-errors.js';
import { authenticateAccessToken, issueCredentials } from './issue-credential.js';
import { credentialErrorSchema, credentialRequestSchema, credentialResponseSchema } from './schemas.js';

export const CREDENTIAL_PATH = '/v1/openid/credential';

export async function credentialRoutes(app: App) {
  app.post(
    CREDENTIAL_PATH,
    {
      config: { event: { type: 'OPENID_CREDENTIAL_ISSUE', category: 'OpenId' }, oauthValidationError: 'invalid_credential_request' },
      // The token is checked before the body, so a bad token is a 401 whatever the body holds.
      onRequest: async (request) => {
        request.accessGrant = await authenticateAccessToken(app.ctx, request.headers.authorization);
      },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'Credential endpoint: a key-bound SD-JWT VC per proof (OpenID4VCI 1.0 and draft 13 requests)',
        security: [{ accessToken: [] }],
        body: credentialRequestSchema,
        // Not the plain OAuth error schema for 400: serialising through it would strip draft 13's c_nonce.
        response: { 200: credentialResponseSchema, 400: credentialErrorSchema, 401: oauthErrorSchema },
      },
    },
    async (request, reply) => {
      const response = await issueCredentials(app.ctx, request.accessGrant!, request.body, { ...eventKindOf(request), ...eventContext(request) });
      return reply.header('cache-control', 'no-store').send(response);
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    accessGrant?: import('./store.js').AccessTokenGrant;
  }
}
