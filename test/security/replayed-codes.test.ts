import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuerClient } from '../support/client.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';

// A replayed pre-authorized code means the code leaked, and revokes the token of the first
// redemption; but anyone who saw the QR code knows the code, so only a replay that also knows the
// transaction code (or of an offer that has none) may cancel the holder's issuance.
let issuer: TestIssuer;
let api: IssuerClient;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
  configurationId = (await api.createConfiguration()).id;
});
afterAll(() => issuer.close());

const tokenWorks = async (token: string) => (await api.requestCredential(token, {})).statusCode !== 401;

describe('a replayed pre-authorized code', () => {
  it('without the transaction code, or with a wrong one, is refused and leaves the holder’s token working', async () => {
    const offer = await api.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
    const txCode = String(offer.transactionCode);
    const { token } = await api.redeem(offer);
    const wrong = txCode.startsWith('9') ? '100000' : '999999';
    for (const replay of [{}, { tx_code: wrong }]) {
      const response = await api.requestToken({ 'pre-authorized_code': offer.code, ...replay });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatch(/invalid_grant|invalid_request/);
    }
    expect(await tokenWorks(token)).toBe(true);
  });

  it('with the transaction code revokes the first redemption’s token', async () => {
    const offer = await api.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
    const txCode = String(offer.transactionCode);
    const { token } = await api.redeem(offer);
    const replay = await api.requestToken({ 'pre-authorized_code': offer.code, tx_code: txCode });
    expect(replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await tokenWorks(token)).toBe(false);
  });

  it('of an offer without a transaction code revokes the first redemption’s token', async () => {
    const offer = await api.createOffer({ credentials: [configurationId] });
    const { token } = await api.redeem(offer);
    expect((await api.requestToken({ 'pre-authorized_code': offer.code })).json()).toMatchObject({ error: 'invalid_grant' });
    expect(await tokenWorks(token)).toBe(false);
  });
});

describe('an unknown pre-authorized code', () => {
  it('is refused and writes nothing: no event, no row (like a request without valid credentials)', async () => {
    const before = await issuer.tables.count('events');
    for (let i = 0; i < 5; i++) {
      const response = await api.requestToken({ 'pre-authorized_code': `unknown-${i}`, tx_code: '123456' });
      expect(response.json()).toEqual({ error: 'invalid_grant', error_description: 'Unknown pre-authorized code' });
    }
    expect(await issuer.tables.count('events')).toBe(before);
  });
});
