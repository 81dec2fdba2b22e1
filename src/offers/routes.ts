import { z } from 'zod';
import { ALL_ISSUERS } from '../auth/roles.js';
import type { App } from '../context.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { OFFER_STATUSES, createOfferSchema, createdOfferSchema, offerSchema } from './schemas.js';
import { toOffer } from './store.js';
import { OFFER_EVENTS, createOffer, getOffer, listOffers, revokeOffer } from './use-cases.js';

const BASE = '/v1/openid/offers/pre-authorized';
const tags = ['Pre-authorized offers'];
const params = z.object({ id: z.uuid() });

export async function offerRoutes(app: App) {
  app.post(
    BASE,
    {
      config: { roles: ALL_ISSUERS, event: OFFER_EVENTS.create },
      schema: { tags, summary: 'Create a single-use pre-authorized credential offer', body: createOfferSchema, response: { 201: createdOfferSchema } },
    },
    async (request, reply) => reply.status(201).send(await createOffer(app.ctx, request.audit, request.body)),
  );

  app.get(
    BASE,
    {
      config: { roles: ALL_ISSUERS },
      schema: {
        tags,
        summary: 'List pre-authorized offers, newest first',
        querystring: pageQuerySchema.extend({ status: z.enum(OFFER_STATUSES).optional(), userId: z.uuid().optional() }),
        response: { 200: pageSchema(offerSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, status, userId } = request.query;
      const now = new Date();
      return toPage(await listOffers(app.ctx, { limit, beforeSeq: decodeCursor(cursor), status, userId }), limit, (row) => toOffer(row, now));
    },
  );

  app.get(
    `${BASE}/:id`,
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'Get a pre-authorized offer (never its code)', params, response: { 200: offerSchema } } },
    async (request) => getOffer(app.ctx, request.params.id),
  );

  app.delete(
    `${BASE}/:id`,
    {
      config: { roles: ALL_ISSUERS, event: OFFER_EVENTS.delete },
      schema: { tags, summary: 'Revoke an offer: it can no longer be redeemed, nor its access token used', params, response: { 204: z.null().describe('Revoked') } },
    },
    async (request, reply) => {
      await revokeOffer(app.ctx, request.audit, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
