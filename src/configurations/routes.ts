import { z } from 'zod';
import type { App } from '../app.js';
import { ALL_ISSUERS, ISSUERS } from '../auth/roles.js';
import { publishInvalidation } from '../db/invalidation.js';
import { evented } from '../events/record.js';
import { conflict, notFound } from '../http/errors.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { newRowId } from '../db/ids.js';
import { configurationInputSchema, configurationSchema } from './schemas.js';
import { CONFIGURATION_TOPIC, deleteConfiguration, getConfiguration, insertConfiguration, listConfigurations, toConfiguration, updateConfiguration } from './store.js';

const BASE = '/v2/credentials/sd-jwt/configurations';
const tags = ['Credential configurations'];
const category = 'CredentialConfiguration';
const params = z.object({ id: z.uuid() });

export async function configurationRoutes(app: App) {
  app.post(
    BASE,
    {
      config: { roles: ISSUERS, event: { type: 'CREDENTIAL_CONFIGURATION_CREATE', category } },
      schema: { tags, summary: 'Create an SD-JWT VC credential configuration', body: configurationInputSchema, response: { 201: configurationSchema } },
    },
    async (request, reply) => {
      const configuration = await evented(app.ctx.db, request, async (trx) => {
        const created = await insertConfiguration(trx, newRowId(), request.body);
        // New in the metadata of every instance.
        await publishInvalidation(trx, CONFIGURATION_TOPIC, created.id);
        return { result: created, data: { configurationId: created.id, type: created.type } };
      });
      app.ctx.caches.issuerMetadata.delete('*');
      return reply.status(201).send(configuration);
    },
  );

  app.get(
    BASE,
    {
      config: { roles: ALL_ISSUERS },
      schema: { tags, summary: 'List SD-JWT VC credential configurations', querystring: pageQuerySchema, response: { 200: pageSchema(configurationSchema) } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return toPage(await listConfigurations(app.ctx.db, { limit, beforeSeq: decodeCursor(cursor) }), limit, toConfiguration);
    },
  );

  app.get(
    `${BASE}/:id`,
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'Get a credential configuration', params, response: { 200: configurationSchema } } },
    async (request) => (await getConfiguration(app.ctx.db, request.params.id)) ?? Promise.reject(notFound('Credential configuration')),
  );

  app.put(
    `${BASE}/:id`,
    {
      config: { roles: ISSUERS, event: { type: 'CREDENTIAL_CONFIGURATION_UPDATE', category } },
      schema: { tags, summary: 'Replace a credential configuration', params, body: configurationInputSchema, response: { 200: configurationSchema } },
    },
    async (request) =>
      evented(app.ctx.db, request, async (trx) => {
        const updated = await updateConfiguration(trx, request.params.id, request.body);
        if (!updated) throw notFound('Credential configuration');
        await publishInvalidation(trx, CONFIGURATION_TOPIC, updated.id);
        return { result: updated, data: { configurationId: updated.id, type: updated.type } };
      }).finally(() => {
        app.ctx.caches.configurations.delete(request.params.id);
        app.ctx.caches.issuerMetadata.delete('*');
      }),
  );

  app.delete(
    `${BASE}/:id`,
    {
      config: { roles: ISSUERS, event: { type: 'CREDENTIAL_CONFIGURATION_DELETE', category } },
      schema: { tags, summary: 'Delete a credential configuration (409 while a live offer uses it)', params, response: { 204: z.null().describe('Deleted') } },
    },
    async (request, reply) => {
      await evented(app.ctx.db, request, async (trx) => {
        const outcome = await deleteConfiguration(trx, request.params.id);
        if (outcome === 'not-found') throw notFound('Credential configuration');
        if (outcome === 'in-use') throw conflict('A pending offer uses this configuration; delete the offer or let it expire first');
        await publishInvalidation(trx, CONFIGURATION_TOPIC, request.params.id);
        return { result: undefined, data: { configurationId: request.params.id } };
      });
      app.ctx.caches.configurations.delete(request.params.id);
      app.ctx.caches.issuerMetadata.delete('*');
      return reply.status(204).send(null);
    },
  );
}
