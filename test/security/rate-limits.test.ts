import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFERS } from '../support/client.js';
import { SECURITY_HEADERS } from '../support/hostile.js';
import { bearer, startTestIssuer, type TestIssuer } from '../support/issuer.js';

// Per client address rate limits on the token and nonce endpoints (RATE_LIMIT_PER_MINUTE). They are
// kept per instance, in memory, on purpose: the limit that protects codes (transaction-code attempts
// per offer) is in the database, and the nonce endpoint stays free of database writes.

const LIMIT = 3;

let issuer: TestIssuer;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  configurationId = (await issuer.client.createConfiguration()).id;
});
afterAll(() => issuer.close());

const token = (remoteAddress: string, fields: Record<string, string>) => issuer.client.requestToken(fields, { remoteAddress });
const nonce = (remoteAddress: string) => issuer.client.requestNonce({ remoteAddress });

function expectTooManyRequests(response: Awaited<ReturnType<typeof nonce>>) {
  expect(response.statusCode, response.body).toBe(429);
  // An error RFC 6749 defines (temporarily_unavailable), not the device flow's slow_down.
  expect(response.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers).toMatchObject(SECURITY_HEADERS);
}

async function eventCount(): Promise<number> {
  const { rows } = await issuer.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  return rows[0]!.n;
}

describe('rate limits per client address', () => {
  it(`the token endpoint: ${LIMIT} requests a minute, then 429 temporarily_unavailable with Retry-After; the refused attempts count nothing and write nothing`, async () => {
    const offer = await issuer.client.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
    const address = '198.51.100.1';
    for (let i = 0; i < LIMIT; i++) expect((await token(address, { 'pre-authorized_code': 'unknown' })).statusCode).toBe(400);
    const events = await eventCount();
    // Over the limit, even the right transaction code is not looked at, and wrong ones are not counted.
    expectTooManyRequests(await token(address, { 'pre-authorized_code': offer.code, tx_code: '000000' }));
    expectTooManyRequests(await token(address, { 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) }));
    const { rows } = await issuer.database.pool.query('SELECT status, failed_attempts FROM offers WHERE id = $1', [offer.id]);
    expect(rows[0]).toEqual({ status: 'pending', failed_attempts: 0 });
    expect(await eventCount()).toBe(events);
    // Another address is not affected.
    const other = await token('198.51.100.2', { 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) });
    expect(other.statusCode, other.body).toBe(200);
  });

  it(`the nonce endpoint: ${LIMIT} a minute per address, then 429 temporarily_unavailable with Retry-After`, async () => {
    const address = '198.51.100.3';
    for (let i = 0; i < LIMIT; i++) expect((await nonce(address)).statusCode).toBe(200);
    expectTooManyRequests(await nonce(address));
    expect((await nonce('198.51.100.4')).statusCode).toBe(200);
  });

  it('the two endpoints count separately, and management routes are not rate limited', async () => {
    const address = '198.51.100.5';
    for (let i = 0; i < LIMIT; i++) expect((await nonce(address)).statusCode).toBe(200);
    expect((await token(address, { 'pre-authorized_code': 'unknown' })).statusCode).toBe(400);
    for (let i = 0; i < LIMIT * 3; i++) {
      const response = await issuer.app.inject({ url: OFFERS, remoteAddress: address, headers: bearer(issuer.adminKey) });
      expect(response.statusCode).toBe(200);
    }
  });

  it('RATE_LIMIT_PER_MINUTE=0 switches the limit off', async () => {
    const unlimited = await startTestIssuer({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      for (let i = 0; i < 20; i++) expect((await unlimited.client.requestNonce({ remoteAddress: '198.51.100.6' })).statusCode).toBe(200);
    } finally {
      await unlimited.close();
    }
  });
});
