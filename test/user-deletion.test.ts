import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFERS, USERS, credentialRequest } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt } from './support/wallet.js';

// Deleting a user keeps the credentials already issued (MATTR VII), but nothing more can be obtained
// from the user's data: pending offers are revoked, access tokens revoked, claim copies dropped.
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

async function requestCredential(token: string, configurationId: string) {
  const proof = await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce: await issuer.client.nonce() });
  return issuer.client.requestCredential(token, credentialRequest(configurationId, [proof]));
}

describe('deleting a user', () => {
  it('revokes their pending offers and every access token of their offers, drops the claim copies, and leaves other users alone', async () => {
    const api = issuer.client;
    const { id: configurationId } = await api.createConfiguration();
    const user = await api.createUser({ name: 'Ada' });
    const other = await api.createUser({ name: 'Grace' });
    const pending = await api.createOffer({ credentials: [configurationId], userId: user.id, claims: { name: 'Ada' } });
    const redeemed = await api.createOffer({ credentials: [configurationId], userId: user.id, claims: { name: 'Ada' } });
    const { token } = await api.redeem(redeemed);
    const othersOffer = await api.createOffer({ credentials: [configurationId], userId: other.id, claims: { name: 'Grace' } });

    expect((await api.del(`${USERS}/${user.id}`)).statusCode).toBe(204);

    expect((await api.get(`${OFFERS}/${pending.id}`)).json().status).toBe('revoked');
    expect((await api.get(`${OFFERS}/${redeemed.id}`)).json().status).toBe('redeemed');
    const reuse = await api.requestToken({ 'pre-authorized_code': pending.code });
    expect(reuse.json()).toMatchObject({ error: 'invalid_grant' });
    const credential = await requestCredential(token, configurationId);
    expect(credential.statusCode).toBe(401);
    expect(credential.json()).toMatchObject({ error: 'invalid_token' });
    const { rows } = await issuer.database.pool.query<{ id: string; claims: Record<string, unknown> }>('SELECT id, claims FROM offers WHERE user_id = $1', [user.id]);
    expect(rows.map((row) => row.claims)).toEqual([{}, {}]);

    // The other user's offer is untouched.
    expect((await api.get(`${OFFERS}/${othersOffer.id}`)).json().status).toBe('pending');
    expect((await api.requestToken({ 'pre-authorized_code': othersOffer.code })).statusCode).toBe(200);
    const [deletion] = await issuer.tables.eventRows(`type = 'USER_DELETE_SUCCESS' AND data->>'userId' = $1`, [user.id]);
    expect(deletion!.data).toEqual({ userId: user.id, revokedOffers: 1 });
  });
});
