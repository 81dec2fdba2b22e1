import { z } from 'zod';
import type { App } from '../context.js';
import { oauthErrorSchema } from '../errors/render.js';
import { WALLET_PATHS } from '../protocol.js';
import { CREDENTIAL_EVENTS, issueCredentials } from './issue-credential.js';
import { NOTIFICATION_EVENTS, recordNotification } from './notify.js';
import { credentialErrorSchema, credentialRequestSchema, credentialResponseSchema, notificationRequestSchema } from './schemas.js';

/** The credential and notification endpoints; registered inside the wallet-facing scope, under PUBLIC_URL's path. */
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

  app.post(
    WALLET_PATHS.notification,
    {
      config: { event: NOTIFICATION_EVENTS.notify, oauthValidationError: 'invalid_notification_request', accessToken: true, crossOrigin: 'wallet' },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'Notification endpoint: what became of the credentials of a response (OpenID4VCI 1.0 §11)',
        security: [{ accessToken: [] }],
        body: notificationRequestSchema,
        response: { 204: z.null().describe('Recorded'), 400: oauthErrorSchema, 401: oauthErrorSchema },
      },
    },
    async (request, reply) => {
      await recordNotification(app.ctx, request.audit, request.accessGrant!, request.body);
      return reply.status(204).header('cache-control', 'no-store').send(null);
    },
  );
}
