import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSigningSecret, signDelivery } from './signing.js';

// The reference implementation of Standard Webhooks verifies what signDelivery signs.
describe('signDelivery', () => {
  const body = JSON.stringify({ type: 'offer.created', timestamp: '2026-01-01T00:00:00.000Z', data: { offerId: 'x' } });

  it('makes headers the standardwebhooks library accepts', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const headers = signDelivery(secret, 'msg_1', body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('the library refuses another secret, a changed body, another id and an old timestamp', () => {
    const secret = newSigningSecret();
    const headers = signDelivery(secret, 'msg_1', body);
    expect(() => new Webhook(newSigningSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('"x"', '"y"'), { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow();
    const old = signDelivery(secret, 'msg_1', body, new Date(Date.now() - 3600_000));
    expect(() => new Webhook(secret).verify(body, { ...old })).toThrow();
  });
});
