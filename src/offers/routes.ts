import { z } from 'zod';
import type { App } from '../app.js';
import { ALL_ISSUERS } from '../auth/roles.js';
import { evented, eventContext, eventKindOf } from '../events/record.js';
import { notFound } from '../http/errors.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { createOffer } from './create-offer.js';
import { OFFER_STATUSES, createOfferSchema, createdOfferSchema, offerSchema } from './schemas.js';
import { getOffer, listOffers, revokeOffer, toOffer } from './store.js';

const BASE = '/v1/openid/offers/pre-authorized';
const tags = ['Pre-authorized offers'];
const category = 'OpenId';
const params = z.object({ id: z.uuid() });

export async function offerRoutes(app: App) {
  app.post(
    BASE,
    {
      config: { roles: ALL_ISSUERS, event: { type: 'OPENID_PRE_AUTHORIZED_OFFER_CREATE', category } },
      schema: {
        tags,
        summary: 'Create a single-use pre-authorized credential offer',
        body: createOfferSchema,
        response: { 201: createdOfferSchema },
      },
    },
    async (request, reply) => {
      const offer = await createOffer(app.ctx, request.body, { ...eventKindOf(request), ...eventContext(request) });
      return reply.status(201).send(offer);
    },
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
      return toPage(await listOffers(app.ctx.db, { limit, beforeSeq: decodeCursor(cursor), status, userId }), limit, (row) => toOffer(row, now));
    },
  );

  app.get(
    `${BASE}/:id`,
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'Get a pre-authorized offer (never its code)', params, response: { 200: offerSchema } } },
    async (request) => (await getOffer(app.ctx.db, request.params.id)) ?? Promise.reject(notFound('Offer')),
  );

  app.delete(
    `${BASE}/:id`,
    {
      config: { roles: ALL_ISSUERS, event: { type: 'OPENID_PRE_AUTHORIZED_OFFER_DELETE', category } },
      schema: { tags, summary: 'Revoke an offer: it can no longer be redeemed, nor its access token used', params, response: { 204: z.null().describe('Revoked') } },
    },
    async (request, reply) => {
      await evented(app.ctx.db, request, async (trx) => {
        if (!(await revokeOffer(trx, request.params.id))) throw notFound('Offer');
        return { result: undefined, data: { offerId: request.params.id } };
      });
      return reply.status(204).send(null);
    },
  );
}
