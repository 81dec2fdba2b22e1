import { z } from 'zod';
import type { App } from '../app.js';
import { ADMIN } from '../auth/roles.js';
import { evented } from '../events/record.js';
import { managementErrorSchema } from '../http/errors.js';
import { toPem } from './certificates.js';
import { clearSigningKeyCache, listIssuerKeys, replaceKey, rotateKey, type IssuerKey, type KeyReplacement } from './issuer-keys.js';

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

const eventData = ({ key, retired }: KeyReplacement) => ({ kid: key.kid, retiredKid: retired?.kid ?? null });
const category = 'IssuerKey';
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
      config: { roles: ADMIN, event: { type: 'ISSUER_KEY_REPLACE', category } },
      schema: {
        tags,
        summary: 'Replace the signing key with an uploaded key and certificate chain',
        description: 'The previous key is retired and stays in the JWKS until the last credential it signed expires.',
        body: z.strictObject({
          privateKeyPem: z.string().min(1).max(16_384).describe('Unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY) of a P-256 key'),
          certificateChainPem: z.string().min(1).max(100_000).describe('PEM certificates, the leaf for privateKeyPem first, then each issuer'),
        }),
        response: { 200: issuerKeySchema, 409: managementErrorSchema },
      },
    },
    async (request) => {
      const replaced = await evented(app.ctx.db, request, async (trx) => {
        const replaced = await replaceKey({ ...app.ctx, db: trx }, request.body);
        return { result: replaced, data: eventData(replaced) };
      });
      clearSigningKeyCache();
      return toItem(replaced.key);
    },
  );

  app.post(
    '/v1/issuer/keys/rotate',
    {
      config: { roles: ADMIN, event: { type: 'ISSUER_KEY_ROTATE', category } },
      schema: {
        tags,
        summary: 'Replace the signing key with a newly generated key and certificate chain',
        description: 'The previous key is retired and stays in the JWKS until the last credential it signed expires.',
        response: { 201: issuerKeySchema },
      },
    },
    async (request, reply) => {
      const rotated = await evented(app.ctx.db, request, async (trx) => {
        const rotated = await rotateKey({ ...app.ctx, db: trx });
        return { result: rotated, data: eventData(rotated) };
      });
      clearSigningKeyCache();
      return reply.status(201).send(toItem(rotated.key));
    },
  );
}
