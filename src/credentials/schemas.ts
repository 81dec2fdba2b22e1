import { z } from 'zod';
import { oauthErrorSchema } from '../errors/render.js';
import { NOTIFICATION_EVENTS } from '../protocol.js';

/**
 * One schema for both dialects, checked field by field in issueCredentials so that each problem gets
 * its own OpenID4VCI error code: 1.0 (`credential_configuration_id` + `proofs`) and draft 13
 * (`format` + `vct` or `doctype` + `proof`). Unknown members are ignored.
 */
export const credentialRequestSchema = z
  .looseObject({
    credential_configuration_id: z.string().max(200).optional(),
    credential_identifier: z.string().max(200).optional(),
    proofs: z.looseObject({ jwt: z.array(z.string()).max(1000).optional() }).optional(),
    format: z.string().max(100).optional(),
    vct: z.string().max(1024).optional(),
    doctype: z.string().max(1024).optional(),
    proof: z.looseObject({ proof_type: z.string().max(100), jwt: z.string().optional() }).optional(),
    credential_response_encryption: z.unknown().optional(),
  })
  .meta({
    id: 'CredentialRequest',
    examples: [{ credential_configuration_id: '0195f3c2-8a4e-7c61-9d2b-3f6a1e5b7c90', proofs: { jwt: ['eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCIsImFsZyI6IkVTMjU2In0.eyJub25jZSI6Ii4uLiJ9.c2lnbmF0dXJl'] } }],
  });
export type CredentialRequest = z.infer<typeof credentialRequestSchema>;

const issuedCredentials = z.array(z.object({ credential: z.string() }));
const notification_id = z.string().describe('For the notification endpoint: what became of these credentials (OpenID4VCI 1.0 §11)');
export const credentialResponseSchema = z
  .union([
    // The most specific first: a union answers with the first shape that fits, dropping other members.
    z
      .object({ credentials: issuedCredentials, credential: z.string(), c_nonce: z.string(), c_nonce_expires_in: z.number().int(), notification_id })
      .describe('Drafts 14-15 (credential_configuration_id with one proof)'),
    z.object({ credential: z.string(), c_nonce: z.string(), c_nonce_expires_in: z.number().int(), notification_id }).describe('Draft 13'),
    z.object({ credentials: issuedCredentials, notification_id }).describe('OpenID4VCI 1.0'),
  ])
  .meta({ id: 'CredentialResponse' });

/** The OAuth error body; draft 13 adds a fresh c_nonce to proof and nonce errors so the wallet can retry. */
export const credentialErrorSchema = oauthErrorSchema
  .extend({
    c_nonce: z.string().optional().describe('Draft 13 requests: a fresh c_nonce with invalid_proof and invalid_nonce'),
    c_nonce_expires_in: z.number().int().optional(),
  })
  .meta({ id: 'CredentialError' });

/** RFC 6749 §5.2's characters, which §11.1 asks of event_description. */
const OAUTH_TEXT = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

/** OID4VCI 1.0 §11.1. Members it does not define are an invalid_notification_request (§11.3). */
export const notificationRequestSchema = z
  .strictObject({
    notification_id: z.string().min(1).max(100),
    event: z.enum(NOTIFICATION_EVENTS),
    event_description: z.string().max(1000).regex(OAUTH_TEXT, 'must be printable ASCII without " and \\').optional(),
  })
  .meta({ id: 'NotificationRequest', examples: [{ notification_id: 'b2c8d7e1-4f0a-4c9e-8f3b-6a1d2e3f4a5b', event: 'credential_accepted' }] });
export type NotificationRequest = z.infer<typeof notificationRequestSchema>;
