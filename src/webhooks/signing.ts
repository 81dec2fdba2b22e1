import { createHmac, randomBytes } from 'node:crypto';

// Standard Webhooks (https://www.standardwebhooks.com, spec "Signature scheme"): an HMAC-SHA256 over
// `${webhook-id}.${webhook-timestamp}.${body}` keyed with the secret's bytes, sent base64 as `v1,<sig>`.

const SECRET_PREFIX = 'whsec_';

/** A new signing secret as Standard Webhooks writes it: whsec_ and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The headers of one delivery attempt: its idempotency id, when it was signed, and the signature. */
export function signDelivery(secret: string, id: string, body: string, now = new Date()): SignedHeaders {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
