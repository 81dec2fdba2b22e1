import type { App } from '../context.js';
import { oauthErrorSchema } from '../errors/render.js';
import { WALLET_PATHS } from '../protocol.js';
import { CREDENTIAL_EVENTS, issueCredentials } from './issue-credential.js';
import { credentialErrorSchema, credentialRequestSchema, credentialResponseSchema } from './schemas.js';

/** The credential endpoint; registered inside the wallet-facing scope, under PUBLIC_URL's path. */
export async function credentialRoutes(app: App) {
  app.post(
    WALLET_PATHS.credential,
    {
      config: { event: CREDENTIAL_EVENTS.issue, oauthValidationError: 'invalid_credential_request', accessToken: true, crossOrigin: 'wallet' },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'Credential endpoint: a key-bound credential per proof (OpenID4VCI 1.0 and draft 13 requests)',
        security: [{ accessToken: [] }],
        body: credentialRequestSchema,
        // Not the plain OAuth error schema for 400: serialising through it would strip draft 13's c_nonce.
        response: { 200: credentialResponseSchema, 400: credentialErrorSchema, 401: oauthErrorSchema, 403: oauthErrorSchema },
      },
    },
    async (request, reply) => reply.header('cache-control', 'no-store').send(await issueCredentials(app.ctx, request.audit, request.accessGrant!, request.body)),
  );
}
