import { z } from 'zod';
import { ALL_ISSUERS } from '../auth/roles.js';
import type { App } from '../context.js';
import { OAuthError } from '../errors/oauth.js';
import { oauthErrorSchema } from '../errors/render.js';
import { WALLET_PATHS } from '../protocol.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { OFFER_STATUSES, createOfferSchema, createdOfferSchema, offerSchema } from './schemas.js';
import { toOffer } from './store.js';
import { OFFER_EVENTS, createOffer, getOffer, listOffers, offerByItsReference, offerQrCode, revokeOffer } from './use-cases.js';

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

  app.get(
    `${BASE}/:id/qrcode`,
    {
      config: { roles: ALL_ISSUERS },
      schema: {
        tags,
        summary: 'The QR code of an offer made by reference: PNG, or SVG when Accept asks for image/svg+xml',
        description: 'Offers by value store their code only as a hash, so their URI cannot be made again: 409. Ask for `qrCode` when creating them instead.',
        params,
        produces: ['image/png', 'image/svg+xml'],
      },
    },
    async (request, reply) => {
      const svg = /image\/svg\+xml/i.test(request.headers.accept ?? '');
      const image = await offerQrCode(app.ctx, request.params.id, svg ? 'svg' : 'png');
      return reply.type(svg ? 'image/svg+xml' : 'image/png').send(image);
    },
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

/**
 * Offers by reference, as wallets fetch them (OID4VCI 1.0 §4.1.3): public, the reference being the
 * secret; registered inside the wallet-facing scope, under PUBLIC_URL's path.
 */
export async function offerReferenceRoutes(app: App) {
  const perMinute = app.ctx.config.oauth.rateLimitPerMinute;
  app.get(
    `${WALLET_PATHS.credentialOffer}/:reference`,
    {
      config: { rateLimit: perMinute > 0 ? { max: perMinute, timeWindow: 60_000 } : false, crossOrigin: 'public' },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'An offer by reference, while it can still be redeemed; fetching it consumes nothing',
        params: z.object({ reference: z.string().max(64) }),
        response: { 200: z.record(z.string(), z.unknown()).describe('The Credential Offer object'), 404: oauthErrorSchema },
      },
    },
    async (request, reply) => {
      const offer = await offerByItsReference(app.ctx, request.params.reference);
      if (!offer) throw new OAuthError('invalid_request', 'This credential offer does not exist, or can no longer be redeemed', 404);
      return reply.header('cache-control', 'no-store').send(offer);
    },
  );
}
