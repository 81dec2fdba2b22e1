import { z } from 'zod';
import { ALL_ISSUERS, ISSUERS } from '../auth/roles.js';
import type { App } from '../context.js';
import { CREDENTIAL_FORMATS } from '../formats/index.js';
import type { CredentialFormat } from '../formats/format.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { toConfiguration } from './store.js';
import { CONFIGURATION_EVENTS, createConfiguration, deleteConfiguration, getConfiguration, listConfigurations, updateConfiguration } from './use-cases.js';

const tags = ['Credential configurations'];
const params = z.object({ id: z.uuid() });

/** `/v2/credentials/<format>/configurations` for one format (MATTR VII style). */
function formatConfigurationRoutes(app: App, format: CredentialFormat) {
  const base = `/v2/credentials/${format.managementPath}/configurations`;
  const body = format.configurationInput;
  const output = format.configurationOutput;

  app.post(
    base,
    {
      config: { roles: ISSUERS, event: CONFIGURATION_EVENTS.create },
      schema: { tags, summary: `Create an ${format.title} credential configuration`, body, response: { 201: output } },
    },
    async (request, reply) => reply.status(201).send(await createConfiguration(app.ctx, request.audit, format, request.body)),
  );

  app.get(
    base,
    {
      config: { roles: ALL_ISSUERS },
      schema: { tags, summary: `List ${format.title} credential configurations`, querystring: pageQuerySchema, response: { 200: pageSchema(output) } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const { rows, more } = await listConfigurations(app.ctx, format, { limit, beforeSeq: decodeCursor(cursor) });
      return toPage(rows, limit, toConfiguration, more);
    },
  );

  app.get(
    `${base}/:id`,
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: `Get an ${format.title} credential configuration`, params, response: { 200: output } } },
    async (request) => getConfiguration(app.ctx, format, request.params.id),
  );

  app.put(
    `${base}/:id`,
    {
      config: { roles: ISSUERS, event: CONFIGURATION_EVENTS.update },
      schema: { tags, summary: `Replace an ${format.title} credential configuration`, params, body, response: { 200: output } },
    },
    async (request) => updateConfiguration(app.ctx, request.audit, format, request.params.id, request.body),
  );

  app.delete(
    `${base}/:id`,
    {
      config: { roles: ISSUERS, event: CONFIGURATION_EVENTS.delete },
      schema: { tags, summary: `Delete an ${format.title} credential configuration (409 while a live offer uses it)`, params, response: { 204: z.null().describe('Deleted') } },
    },
    async (request, reply) => {
      await deleteConfiguration(app.ctx, request.audit, format, request.params.id);
      return reply.status(204).send(null);
    },
  );
}

export async function configurationRoutes(app: App) {
  for (const format of CREDENTIAL_FORMATS) formatConfigurationRoutes(app, format);
}
