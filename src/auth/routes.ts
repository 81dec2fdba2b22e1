import { z } from 'zod';
import type { App } from '../context.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { API_KEY_EVENTS, createApiKey, listApiKeys, revokeApiKey } from './api-keys.js';
import { ADMIN, ROLES } from './roles.js';
import type { ApiKeyRow } from './store.js';

const apiKeySchema = z
  .object({ id: z.uuid(), name: z.string(), role: z.enum(ROLES), createdAt: z.iso.datetime() })
  .meta({ id: 'ApiKey' });

const toApiKey = (row: ApiKeyRow) => ({ id: row.id, name: row.name, role: row.role, createdAt: row.created_at.toISOString() });
const tags = ['API keys'];

export async function apiKeyRoutes(app: App) {
  app.post(
    '/v1/api-keys',
    {
      config: { roles: ADMIN, event: API_KEY_EVENTS.create },
      schema: {
        tags,
        summary: 'Create an API key (the key is shown only in this response)',
        body: z.strictObject({ name: z.string().trim().min(1).max(200), role: z.enum(ROLES) }).meta({ examples: [{ name: 'Back office', role: 'issuer' }] }),
        response: { 201: apiKeySchema.extend({ key: z.string() }).meta({ id: 'CreatedApiKey' }) },
      },
    },
    async (request, reply) => {
      const { row, key } = await createApiKey(app.ctx, request.audit, request.body);
      return reply.status(201).send({ ...toApiKey(row), key });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { roles: ADMIN },
      schema: { tags, summary: 'List active API keys (never the keys themselves)', querystring: pageQuerySchema, response: { 200: pageSchema(apiKeySchema) } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return toPage(await listApiKeys(app.ctx, { limit, beforeSeq: decodeCursor(cursor) }), limit, toApiKey);
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { roles: ADMIN, event: API_KEY_EVENTS.delete },
      schema: { tags, summary: 'Revoke an API key, effective immediately', params: z.object({ id: z.uuid() }), response: { 204: z.null().describe('Revoked') } },
    },
    async (request, reply) => {
      await revokeApiKey(app.ctx, request.audit, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
