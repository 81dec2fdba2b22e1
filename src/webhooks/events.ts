/**
 * The events a webhook may subscribe to. Each is an analytics event recorded with its change
 * (migrations/012_webhooks.sql, webhook_event_name, maps one to the other); the payload's `data` is
 * that event's data: ids and outcomes, never a secret.
 */
export const WEBHOOK_EVENTS = [
  'offer.created',
  'offer.redeemed',
  'offer.locked',
  'offer.expired',
  'offer.revoked',
  'credential.issued',
  'credential.notification_received',
  'credential.status_changed',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The analytics event recorded when the expiry scan finds a pending offer past its expiry. */
export const OFFER_EXPIRY_EVENT = { type: 'OPENID_PRE_AUTHORIZED_OFFER_EXPIRE', category: 'OpenId' } as const;
