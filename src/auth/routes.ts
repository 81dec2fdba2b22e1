import { z } from 'zod';
import type { App } from '../app.js';
import { evented } from '../events/record.js';
import { notFound } from '../http/errors.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { publishInvalidation } from '../db/invalidation.js';
import { newRowId } from '../db/ids.js';
import { API_KEY_TOPIC, generateApiKey, hashApiKey } from './api-keys.js';
import { ADMIN, ROLES } from './roles.js';
import { insertApiKey, listApiKeys, revokeApiKey, type ApiKeyRow } from './store.js';

const apiKeySchema = z
  .object({ id: z.uuid(), name: z.string(), role: z.enum(ROLES), createdAt: z.iso.datetime() })
  .meta({ id: 'ApiKey' });

const toApiKey = (row: ApiKeyRow) => ({ id: row.id, name: row.name, role: row.role, createdAt: row.created_at.toISOString() });
const category = 'ApiKey';

export async function apiKeyRoutes(app: App) {
  app.post(
    '/v1/api-keys',
    {
      config: { roles: ADMIN, event: { type: 'API_KEY_CREATE', category } },
      schema: {
        tags: ['API keys'],
        summary: 'Create an API key (the key is shown only in this response)',
        body: z.strictObject({ name: z.string().trim().min(1).max(200), role: z.enum(ROLES) }),
        response: { 201: apiKeySchema.extend({ key: z.string() }).meta({ id: 'CreatedApiKey' }) },
      },
    },
    async (request, reply) => {
      const key = generateApiKey();
      const row = await evented(app.ctx.db, request, async (trx) => {
        const row = await insertApiKey(trx, { id: newRowId(), ...request.body, keyHash: hashApiKey(app.ctx.secrets, key) });
        return { result: row, data: { apiKeyId: row.id, role: row.role } };
      });
      return reply.status(201).send({ ...toApiKey(row), key });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { roles: ADMIN },
      schema: { tags: ['API keys'], summary: 'List active API keys (never the keys themselves)', querystring: pageQuerySchema, response: { 200: pageSchema(apiKeySchema) } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return toPage(await listApiKeys(app.ctx.db, { limit, beforeSeq: decodeCursor(cursor) }), limit, toApiKey);
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { roles: ADMIN, event: { type: 'API_KEY_DELETE', category } },
      schema: { tags: ['API keys'], summary: 'Revoke an API key, effective immediately', params: z.object({ id: z.uuid() }), response: { 204: z.null().describe('Revoked') } },
    },
    async (request, reply) => {
      await evented(app.ctx.db, request, async (trx) => {
        if (!(await revokeApiKey(trx, request.params.id))) throw notFound('API key');
        await publishInvalidation(trx, API_KEY_TOPIC, '*');
        return { result: undefined, data: { apiKeyId: request.params.id } };
      });
      // Revoked at once here; the other instances as soon as the notification reaches them.
      app.ctx.caches.apiKeys.delete('*');
      return reply.status(204).send(null);
    },
  );
}
