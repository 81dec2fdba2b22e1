import { z } from 'zod';
import { WEBHOOK_EVENTS } from './events.js';

export const webhookEventSchema = z.enum(WEBHOOK_EVENTS);

export const webhookBodySchema = z.strictObject({
  url: z.string().max(2048).describe('Where deliveries are POSTed: https (http outside production); no loopback or private address unless WEBHOOK_ALLOW_PRIVATE_NETWORKS'),
  events: z.array(webhookEventSchema).min(1).max(WEBHOOK_EVENTS.length * 4).describe('The events to deliver'),
  disabled: z.boolean().default(false).describe('A disabled webhook gets nothing new; its pending deliveries wait'),
}).meta({ examples: [{ url: 'https://backend.example.com/hooks/vci', events: ['offer.redeemed', 'credential.issued'], disabled: false }] });
export type WebhookBody = z.infer<typeof webhookBodySchema>;

export const webhookSchema = z
  .object({ id: z.uuid(), url: z.string(), events: z.array(webhookEventSchema), disabled: z.boolean(), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof webhookSchema>;

export const createdWebhookSchema = webhookSchema
  .extend({
    secret: z.string().describe('The signing secret (Standard Webhooks, whsec_…): shown only in this response'),
  })
  .meta({ id: 'CreatedWebhook' });

export const webhookDeliverySchema = z
  .object({
    id: z.uuid().describe('The webhook-id header: the same on every attempt and on a redelivery'),
    webhookId: z.uuid(),
    eventId: z.uuid().describe('The analytics event it was made from'),
    event: webhookEventSchema,
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    createdAt: z.iso.datetime(),
    lastAttemptAt: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime().nullable().describe('While pending: when it is attempted next'),
    lastResponseStatus: z.number().int().nullable().describe('The receiver’s status code (its body is not kept)'),
    lastError: z.string().nullable(),
    deliveredAt: z.iso.datetime().nullable(),
    payload: z.record(z.string(), z.unknown()).describe('The body sent'),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;
