import { z } from 'zod';
import { claimsSchema } from '../claims/claim-data.js';

export const OFFER_STATUSES = ['pending', 'redeemed', 'expired', 'revoked', 'locked'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

export const createOfferSchema = z
  .strictObject({
    credentials: z
      .array(z.uuid())
      .min(1)
      .max(50)
      .superRefine((ids, ctx) => {
        ids.forEach((id, index) => {
          if (ids.indexOf(id) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate credential configuration id ${id}` });
        });
      })
      .describe('Credential configuration ids'),
    userId: z.uuid().optional().describe('An existing user; when absent a new user is created'),
    claims: claimsSchema.optional().describe('Claims for this offer only'),
    claimsToPersist: z.array(z.string().min(1).max(256)).max(1000).optional().describe('Names from `claims` to store on the user'),
    expiresIn: z
      .strictObject({ minutes: z.number().int().min(0).max(43_200).optional(), seconds: z.number().int().min(0).max(2_592_000).optional() })
      .refine((value) => (value.minutes ?? 0) * 60 + (value.seconds ?? 0) > 0, { message: 'must be a positive duration' })
      .optional(),
    transactionCodeConfiguration: z
      .strictObject({
        description: z.string().max(300).optional(),
        length: z.number().int().min(4).max(10).default(6),
        inputMode: z.enum(['numeric', 'text']).default('numeric'),
      })
      .optional(),
    byReference: z
      .boolean()
      .default(false)
      .describe('The URI points to where the wallet fetches the offer (credential_offer_uri): a short URI, a simple QR code'),
    qrCode: z.enum(['png', 'svg']).optional().describe('Also answer a QR code of the URI, as a data: URI'),
  })
  .superRefine((body, ctx) => {
    for (const [index, name] of (body.claimsToPersist ?? []).entries()) {
      if (!body.claims || !Object.hasOwn(body.claims, name)) {
        ctx.addIssue({ code: 'custom', path: ['claimsToPersist', index], message: `"${name}" is not in claims` });
      }
    }
  })
  .meta({
    id: 'CreatePreAuthorizedOffer',
    examples: [
      {
        credentials: ['0195f3c2-8a4e-7c61-9d2b-3f6a1e5b7c90'],
        claims: { givenName: 'Ada', familyName: 'Lovelace' },
        transactionCodeConfiguration: { description: 'The code we e-mailed you' },
        byReference: true,
      },
    ],
  });
export type CreateOfferInput = z.infer<typeof createOfferSchema>;

export const createdOfferSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    uri: z.string().describe('openid-credential-offer://?credential_offer=…'),
    expiresAt: z.iso.datetime(),
    transactionCode: z.union([z.number().int(), z.string()]).optional().describe('A number for numeric codes, a string for text codes'),
    qrCode: z.string().optional().describe('With `qrCode`: the QR code of `uri`, as a data: URI'),
  })
  .meta({ id: 'CreatedPreAuthorizedOffer' });

export const offerSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    credentials: z.array(z.uuid()),
    status: z.enum(OFFER_STATUSES),
    expiresAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    redeemedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'PreAuthorizedOffer' });
export type Offer = z.infer<typeof offerSchema>;
