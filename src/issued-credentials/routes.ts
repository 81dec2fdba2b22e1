import { z } from 'zod';
import { ALL_ISSUERS } from '../auth/roles.js';
import type { App } from '../context.js';
import { managementErrorSchema } from '../errors/render.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage, withoutSeq } from '../http/pagination.js';
import { bulkStatusResultSchema, issuedCredentialSchema, statusBodySchema } from './schemas.js';
import {
  ISSUED_CREDENTIAL_EVENTS,
  deleteIssuedCredential,
  getCredentialStatus,
  getIssuedCredential,
  listUserCredentials,
  setCredentialStatus,
  setStatusOfCredentials,
  statusEventOf,
  type Profile,
} from './use-cases.js';

const tags = ['Issued credentials and status'];
const PROFILES: readonly Profile[] = ['sd-jwt', 'mobile'];
const statusResponse = z.object({ status: statusBodySchema.shape.status });

/**
 * The records of issued credentials and their status (MATTR VII: user credentials, and
 * `/v2/credentials/mobile/{credentialId}/status`; the same shapes under `sd-jwt` for SD-JWT VCs).
 */
export async function issuedCredentialRoutes(app: App) {
  app.get(
    '/v1/users/:userId/credentials',
    {
      config: { roles: ALL_ISSUERS },
      schema: {
        tags,
        summary: "List a user's issued credentials, newest first (no claim values)",
        params: z.object({ userId: z.uuid() }),
        querystring: pageQuerySchema,
        response: { 200: pageSchema(issuedCredentialSchema) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const { rows, more } = await listUserCredentials(app.ctx, { userId: request.params.userId, limit, beforeSeq: decodeCursor(cursor) });
      return toPage(rows, limit, withoutSeq, more);
    },
  );

  app.post(
    '/v1/users/:userId/credentials/status',
    {
      config: { roles: ALL_ISSUERS, event: ISSUED_CREDENTIAL_EVENTS.bulkStatus },
      schema: {
        tags,
        summary: "Set the status of every credential of a user (e.g. revoke them all: { \"status\": \"invalid\" })",
        params: z.object({ userId: z.uuid() }),
        body: statusBodySchema,
        response: { 200: bulkStatusResultSchema },
      },
    },
    async (request) => setStatusOfCredentials(app.ctx, request.audit, { userId: request.params.userId }, request.body.status),
  );

  app.post(
    '/v1/openid/offers/pre-authorized/:id/credentials/status',
    {
      config: { roles: ALL_ISSUERS, event: ISSUED_CREDENTIAL_EVENTS.bulkStatus },
      schema: {
        tags,
        summary: 'Set the status of every credential issued from an offer',
        params: z.object({ id: z.uuid() }),
        body: statusBodySchema,
        response: { 200: bulkStatusResultSchema },
      },
    },
    async (request) => setStatusOfCredentials(app.ctx, request.audit, { offerId: request.params.id }, request.body.status),
  );

  for (const profile of PROFILES) {
    const path = `/v2/credentials/${profile}/:credentialId`;
    const params = z.object({ credentialId: z.uuid() });
    const kind = profile === 'mobile' ? 'an mDoc' : 'an SD-JWT VC';

    app.get(
      path,
      { config: { roles: ALL_ISSUERS }, schema: { tags, summary: `Get the record of ${kind} issued`, params, response: { 200: issuedCredentialSchema } } },
      async (request) => getIssuedCredential(app.ctx, profile, request.params.credentialId),
    );

    app.delete(
      path,
      {
        config: { roles: ALL_ISSUERS, event: ISSUED_CREDENTIAL_EVENTS.delete },
        schema: { tags, summary: `Delete the record of ${kind} issued; its status stays as it is`, params, response: { 204: z.null().describe('Deleted') } },
      },
      async (request, reply) => {
        await deleteIssuedCredential(app.ctx, request.audit, profile, request.params.credentialId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      `${path}/status`,
      {
        config: { roles: ALL_ISSUERS },
        schema: { tags, summary: `The status of ${kind}`, params, response: { 200: statusResponse, 409: managementErrorSchema } },
      },
      async (request) => getCredentialStatus(app.ctx, profile, request.params.credentialId),
    );

    app.post(
      `${path}/status`,
      {
        config: { roles: ALL_ISSUERS, event: statusEventOf(profile) },
        schema: {
          tags,
          summary: `Set the status of ${kind}: valid, invalid (final) or suspended (2-bit lists); the next fetch of its status list shows it`,
          params,
          body: statusBodySchema,
          response: { 201: statusResponse, 409: managementErrorSchema },
        },
      },
      async (request, reply) => reply.status(201).send(await setCredentialStatus(app.ctx, request.audit, profile, request.params.credentialId, request.body.status)),
    );
  }
}
