import { z } from 'zod';
import { AUDITORS } from '../auth/roles.js';
import type { App } from '../context.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { listEvents } from './store.js';

const csv = z
  .string()
  .max(2000)
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

export const eventSchema = z
  .object({
    id: z.uuid(),
    type: z.string(),
    category: z.string(),
    timestamp: z.iso.datetime(),
    requestId: z.string().nullable(),
    actor: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });

export async function eventRoutes(app: App) {
  app.get(
    '/v1/analytics/events',
    {
      config: { roles: AUDITORS },
      schema: {
        tags: ['Analytics'],
        summary: 'List analytics events, newest first',
        querystring: pageQuerySchema.extend({
          types: csv.optional().describe('Comma-separated event types, e.g. OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS'),
          categories: csv.optional().describe('Comma-separated categories'),
          dateFrom: z.iso.datetime({ offset: true }).optional(),
          dateTo: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: pageSchema(eventSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, types, categories, dateFrom, dateTo } = request.query;
      const rows = await listEvents(app.ctx.db, {
        limit,
        beforeSeq: decodeCursor(cursor),
        types,
        categories,
        dateFrom: dateFrom ? new Date(dateFrom) : undefined,
        dateTo: dateTo ? new Date(dateTo) : undefined,
      });
      return toPage(rows, limit, (row) => ({
        id: row.id,
        type: row.type,
        category: row.category,
        timestamp: row.timestamp.toISOString(),
        requestId: row.request_id,
        actor: row.actor,
        data: row.data,
      }));
    },
  );
}
