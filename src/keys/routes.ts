import { z } from 'zod';
import { ADMIN } from '../auth/roles.js';
import type { App } from '../context.js';
import { managementErrorSchema } from '../errors/render.js';
import { toPem } from './certificates.js';
import { ISSUER_KEY_EVENTS, listIssuerKeys, replaceKey, rotateKey, type IssuerKey } from './issuer-keys.js';

const issuerKeySchema = z
  .object({
    kid: z.string().describe('RFC 7638 JWK thumbprint of the public key'),
    status: z.enum(['active', 'retired']),
    publicJwk: z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() }),
    certificateChain: z.array(z.string()).describe('PEM certificates, leaf first'),
    createdAt: z.iso.datetime(),
    retiredAt: z.iso.datetime().nullable(),
    publishUntil: z.iso.datetime().nullable().describe('A retired key stays in the JWKS until then (null: for as long as it is retired)'),
  })
  .meta({ id: 'IssuerKey' });

const toItem = (key: IssuerKey) => ({
  kid: key.kid,
  status: key.status,
  publicJwk: key.publicJwk,
  certificateChain: key.certificateChain.map(toPem),
  createdAt: key.createdAt.toISOString(),
  retiredAt: key.retiredAt?.toISOString() ?? null,
  publishUntil: key.publishUntil?.toISOString() ?? null,
});

const tags = ['Issuer keys'];

export async function keyRoutes(app: App) {
  app.get(
    '/v1/issuer/keys',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'List the issuer signing keys, newest first (never private keys)',
        response: { 200: z.object({ data: z.array(issuerKeySchema) }) },
      },
    },
    async () => ({ data: (await listIssuerKeys(app.ctx)).map(toItem) }),
  );

  app.put(
    '/v1/issuer/keys',
    {
      config: { roles: ADMIN, event: ISSUER_KEY_EVENTS.replace },
      schema: {
        tags,
        summary: 'Replace the signing key with an uploaded key and certificate chain',
        description: 'The previous key is retired and stays in the JWKS until the last credential it signed expires.',
        body: z.strictObject({
          privateKeyPem: z
            .string()
            .min(1)
            .max(16_384)
            .describe('Unencrypted PEM of a P-256 key: PKCS#8 (BEGIN PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY, as `openssl ecparam -genkey` writes it)'),
          certificateChainPem: z.string().min(1).max(100_000).describe('PEM certificates, the leaf for privateKeyPem first, then each issuer'),
        })
        // The shape only: a working example would be a private key everyone knows.
        .meta({
          examples: [
            {
              privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg…\n-----END PRIVATE KEY-----\n',
              certificateChainPem: '-----BEGIN CERTIFICATE-----\nMIIBkTCCATegAwIBAgIU…\n-----END CERTIFICATE-----\n',
            },
          ],
        }),
        response: { 200: issuerKeySchema, 409: managementErrorSchema },
      },
    },
    async (request) => toItem((await replaceKey(app.ctx, request.audit, request.body)).key),
  );

  app.post(
    '/v1/issuer/keys/rotate',
    {
      config: { roles: ADMIN, event: ISSUER_KEY_EVENTS.rotate },
      schema: {
        tags,
        summary: 'Replace the signing key with a newly generated key and certificate chain',
        description: 'The previous key is retired and stays in the JWKS until the last credential it signed expires.',
        response: { 201: issuerKeySchema },
      },
    },
    async (request, reply) => reply.status(201).send(toItem((await rotateKey(app.ctx, request.audit)).key)),
  );
}
