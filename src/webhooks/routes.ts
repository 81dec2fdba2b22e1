import { z } from 'zod';
import { ADMIN } from '../auth/roles.js';
import type { App } from '../context.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage, withoutSeq } from '../http/pagination.js';
import { createdWebhookSchema, webhookBodySchema, webhookDeliverySchema, webhookSchema } from './schemas.js';
import { WEBHOOK_MANAGEMENT_EVENTS, createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, redeliver, replaceWebhook } from './use-cases.js';

const tags = ['Webhooks'];
const params = z.object({ id: z.uuid() });
export async function webhookRoutes(app: App) {
  app.post(
    '/v1/webhooks',
    {
      config: { roles: ADMIN, event: WEBHOOK_MANAGEMENT_EVENTS.create },
      schema: { tags, summary: 'Create a webhook (its signing secret is shown only in this response)', body: webhookBodySchema, response: { 201: createdWebhookSchema } },
    },
    async (request, reply) => reply.status(201).send(await createWebhook(app.ctx, request.audit, request.body)),
  );

  app.get(
    '/v1/webhooks',
    { config: { roles: ADMIN }, schema: { tags, summary: 'List webhooks', querystring: pageQuerySchema, response: { 200: pageSchema(webhookSchema) } } },
    async (request) => {
      const { limit, cursor } = request.query;
      return toPage(await listWebhooks(app.ctx, { limit, beforeSeq: decodeCursor(cursor) }), limit, withoutSeq);
    },
  );

  app.get(
    '/v1/webhooks/:id',
    { config: { roles: ADMIN }, schema: { tags, summary: 'Get a webhook', params, response: { 200: webhookSchema } } },
    async (request) => getWebhook(app.ctx, request.params.id),
  );

  app.put(
    '/v1/webhooks/:id',
    {
      config: { roles: ADMIN, event: WEBHOOK_MANAGEMENT_EVENTS.update },
      schema: { tags, summary: "Replace a webhook's URL, events and disabled flag (its secret stays)", params, body: webhookBodySchema, response: { 200: webhookSchema } },
    },
    async (request) => replaceWebhook(app.ctx, request.audit, request.params.id, request.body),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { roles: ADMIN, event: WEBHOOK_MANAGEMENT_EVENTS.delete },
      schema: { tags, summary: 'Delete a webhook and its delivery log (pending deliveries are not sent)', params, response: { 204: z.null().describe('Deleted') } },
    },
    async (request, reply) => {
      await deleteWebhook(app.ctx, request.audit, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { roles: ADMIN },
      schema: { tags, summary: "A webhook's delivery log, newest first", params, querystring: pageQuerySchema, response: { 200: pageSchema(webhookDeliverySchema) } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return toPage(await listDeliveries(app.ctx, { webhookId: request.params.id, limit, beforeSeq: decodeCursor(cursor) }), limit, withoutSeq);
    },
  );

  app.post(
    '/v1/webhooks/deliveries/:id/redeliver',
    {
      config: { roles: ADMIN, event: WEBHOOK_MANAGEMENT_EVENTS.redeliver },
      schema: {
        tags,
        summary: 'Send a delivered or failed delivery again (same webhook-id; 409 while it is still pending)',
        params,
        response: { 202: webhookDeliverySchema },
      },
    },
    async (request, reply) => reply.status(202).send(await redeliver(app.ctx, request.audit, request.params.id)),
  );
}
