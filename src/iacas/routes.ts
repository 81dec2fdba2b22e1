import { z } from 'zod';
import { ISSUERS } from '../auth/roles.js';
import type { App } from '../context.js';
import { managementErrorSchema } from '../errors/render.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import {
  DOCUMENT_SIGNERS_PATH,
  IACAS_PATH,
  createDocumentSignerSchema,
  createIacaSchema,
  documentSignerSchema,
  iacaSchema,
  revocationSchema,
  updateDocumentSignerSchema,
  updateIacaSchema,
} from './schemas.js';
import {
  DOCUMENT_SIGNER_EVENTS,
  IACA_EVENTS,
  createDocumentSigner,
  createIaca,
  deleteDocumentSigner,
  deleteIaca,
  getDocumentSigner,
  getIaca,
  iacaCertificatePem,
  iacaCrl,
  listDocumentSigners,
  listIacas,
  revokeDocumentSigner,
  toDocumentSigner,
  toIaca,
  updateDocumentSigner,
  updateIaca,
} from './use-cases.js';

const params = z.object({ id: z.uuid() });
const iacaTags = ['mDoc IACAs'];
const signerTags = ['mDoc document signers'];

/** IACAs and document signers of mDocs (MATTR VII's paths and shapes), and each IACA's public certificate and CRL. */
export async function iacaRoutes(app: App) {
  app.post(
    IACAS_PATH,
    {
      config: { roles: ISSUERS, event: IACA_EVENTS.create },
      schema: {
        tags: iacaTags,
        summary: 'Create an IACA, inactive: managed (the service makes its key and certificate) or unmanaged (your certificate, your key offline)',
        body: createIacaSchema,
        response: { 201: iacaSchema, 409: managementErrorSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createIaca(app.ctx, request.audit, request.body)),
  );

  app.get(
    IACAS_PATH,
    { config: { roles: ISSUERS }, schema: { tags: iacaTags, summary: 'List IACAs, newest first', querystring: pageQuerySchema, response: { 200: pageSchema(iacaSchema) } } },
    async (request) => {
      const { limit, cursor } = request.query;
      const { rows, more } = await listIacas(app.ctx, { limit, beforeSeq: decodeCursor(cursor) });
      return toPage(rows, limit, toIaca, more);
    },
  );

  app.get(
    `${IACAS_PATH}/:id`,
    { config: { roles: ISSUERS }, schema: { tags: iacaTags, summary: 'Get an IACA', params, response: { 200: iacaSchema } } },
    async (request) => getIaca(app.ctx, request.params.id),
  );

  app.put(
    `${IACAS_PATH}/:id`,
    {
      config: { roles: ISSUERS, event: IACA_EVENTS.update },
      schema: {
        tags: iacaTags,
        summary: 'Activate or deactivate an IACA (at most 3 active; mDocs are signed under active IACAs only)',
        params,
        body: updateIacaSchema,
        response: { 200: iacaSchema, 409: managementErrorSchema },
      },
    },
    async (request) => updateIaca(app.ctx, request.audit, request.params.id, request.body),
  );

  app.delete(
    `${IACAS_PATH}/:id`,
    {
      config: { roles: ISSUERS, event: IACA_EVENTS.delete },
      schema: { tags: iacaTags, summary: 'Delete an inactive IACA and its document signers', params, response: { 204: z.null().describe('Deleted'), 409: managementErrorSchema } },
    },
    async (request, reply) => {
      await deleteIaca(app.ctx, request.audit, request.params.id);
      return reply.status(204).send(null);
    },
  );

  // Public: what a verifier fetches. The certificates' CRL distribution point names the CRL route.
  app.get(
    `${IACAS_PATH}/:id/certificate`,
    {
      config: { crossOrigin: 'public' },
      schema: {
        tags: iacaTags,
        summary: 'The IACA certificate (PEM), the trust anchor of the mDocs signed under it; no API key',
        params,
        produces: ['application/x-pem-file'],
        response: { 200: z.string().describe('PEM certificate'), 400: managementErrorSchema, 404: managementErrorSchema },
      },
    },
    async (request, reply) =>
      reply.header('content-type', 'application/x-pem-file').header('cache-control', 'public, max-age=300').send(await iacaCertificatePem(app.ctx, request.params.id)),
  );

  app.get(
    `${IACAS_PATH}/:id/crl`,
    {
      config: { crossOrigin: 'public' },
      schema: {
        tags: iacaTags,
        summary: "A managed IACA's CRL (DER, RFC 5280): its revoked document signers; no API key",
        params,
        produces: ['application/pkix-crl'],
        response: { 200: z.unknown().describe('DER CRL (binary)'), 400: managementErrorSchema, 404: managementErrorSchema },
      },
    },
    async (request, reply) =>
      reply.header('content-type', 'application/pkix-crl').header('cache-control', 'public, max-age=60').send(await iacaCrl(app.ctx, request.params.id)),
  );

  app.post(
    DOCUMENT_SIGNERS_PATH,
    {
      config: { roles: ISSUERS, event: DOCUMENT_SIGNER_EVENTS.create },
      schema: {
        tags: signerTags,
        summary: "Create a document signer: under a managed IACA its certificate is issued at once (active); under an unmanaged one the answer holds the CSR for the IACA's owner to sign",
        body: createDocumentSignerSchema,
        response: { 201: documentSignerSchema, 409: managementErrorSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await createDocumentSigner(app.ctx, request.audit, request.body)),
  );

  app.get(
    DOCUMENT_SIGNERS_PATH,
    {
      config: { roles: ISSUERS },
      schema: {
        tags: signerTags,
        summary: 'List document signers, newest first',
        querystring: pageQuerySchema.extend({ iacaId: z.uuid().optional() }),
        response: { 200: pageSchema(documentSignerSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, iacaId } = request.query;
      const { rows, more } = await listDocumentSigners(app.ctx, { limit, beforeSeq: decodeCursor(cursor), iacaId });
      return toPage(rows, limit, toDocumentSigner, more);
    },
  );

  app.get(
    `${DOCUMENT_SIGNERS_PATH}/:id`,
    { config: { roles: ISSUERS }, schema: { tags: signerTags, summary: 'Get a document signer', params, response: { 200: documentSignerSchema } } },
    async (request) => getDocumentSigner(app.ctx, request.params.id),
  );

  app.put(
    `${DOCUMENT_SIGNERS_PATH}/:id`,
    {
      config: { roles: ISSUERS, event: DOCUMENT_SIGNER_EVENTS.update },
      schema: {
        tags: signerTags,
        summary: 'Install the certificate an unmanaged IACA issued for the CSR, and activate or deactivate the signer',
        params,
        body: updateDocumentSignerSchema,
        response: { 200: documentSignerSchema, 409: managementErrorSchema },
      },
    },
    async (request) => updateDocumentSigner(app.ctx, request.audit, request.params.id, request.body),
  );

  app.delete(
    `${DOCUMENT_SIGNERS_PATH}/:id`,
    {
      config: { roles: ISSUERS, event: DOCUMENT_SIGNER_EVENTS.delete },
      schema: { tags: signerTags, summary: 'Delete a document signer (a revoked one stays on its IACA’s CRL)', params, response: { 204: z.null().describe('Deleted') } },
    },
    async (request, reply) => {
      await deleteDocumentSigner(app.ctx, request.audit, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    `${DOCUMENT_SIGNERS_PATH}/:id/revoke`,
    {
      config: { roles: ISSUERS, event: DOCUMENT_SIGNER_EVENTS.revoke },
      schema: {
        tags: signerTags,
        summary: "Revoke a document signer for good: it signs no more and its certificate goes on its IACA's CRL",
        params,
        response: { 200: revocationSchema, 409: managementErrorSchema },
      },
    },
    async (request) => revokeDocumentSigner(app.ctx, request.audit, request.params.id),
  );
}
