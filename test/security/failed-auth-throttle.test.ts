import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestIssuer, type TestIssuer } from '../support/issuer.js';

// Guessing keys or tokens: past AUTH_FAILURES_PER_MINUTE failed attempts, an address gets 429 with
// Retry-After, before any look-up, even for a key that would be valid; other addresses are unaffected.
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer({ env: { AUTH_FAILURES_PER_MINUTE: '5' } });
});
afterAll(() => issuer.close());

const guess = () => `vci_${randomBytes(32).toString('base64url')}`;
const get = (key: string, remoteAddress: string) => issuer.app.inject({ url: '/v1/users', headers: bearer(key), remoteAddress });
const credential = (token: string, remoteAddress: string) =>
  issuer.app.inject({ method: 'POST', url: '/v1/openid/credential', headers: bearer(token), payload: {}, remoteAddress });

describe('failed authentication from one address', () => {
  it('management API: five wrong keys, then 429 even for the right key; another address is served', async () => {
    const address = '192.0.2.10';
    for (let i = 0; i < 5; i++) expect((await get(guess(), address)).statusCode).toBe(401);
    const throttled = await get(issuer.adminKey, address);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toEqual({ code: 'TooManyRequests', message: expect.stringContaining('failed authentication') });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(issuer.adminKey, '192.0.2.11')).statusCode).toBe(200);
  });

  it('credential endpoint: five unknown tokens, then 429 in the OAuth shape', async () => {
    const address = '192.0.2.20';
    for (let i = 0; i < 5; i++) expect((await credential(randomBytes(32).toString('base64url'), address)).statusCode).toBe(401);
    const throttled = await credential('anything', address);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ error: expect.any(String), error_description: expect.stringContaining('failed authentication') });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('successful requests do not count', async () => {
    for (let i = 0; i < 20; i++) expect((await get(issuer.adminKey, '192.0.2.30')).statusCode).toBe(200);
  });
});
