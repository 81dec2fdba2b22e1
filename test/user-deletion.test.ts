import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfiguration, createOffer, requestToken } from './support/flow.js';
import { bearer, startTestIssuer, type TestIssuer } from './support/issuer.js';
import { management } from './support/management.js';
import { holderKey, proofJwt } from './support/wallet.js';

// Deleting a user keeps the credentials already issued (MATTR VII), but nothing more can be obtained
// from the user's data: pending offers are revoked, access tokens revoked, claim copies dropped.
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

async function requestCredential(token: string, configurationId: string) {
  const nonce = (await issuer.app.inject({ method: 'POST', url: '/v1/openid/nonce' })).json().c_nonce as string;
  const proof = await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce });
  return issuer.app.inject({
    method: 'POST',
    url: '/v1/openid/credential',
    headers: bearer(token),
    payload: { credential_configuration_id: configurationId, proofs: { jwt: [proof] } },
  });
}

describe('deleting a user', () => {
  it('revokes their pending offers and every access token of their offers, drops the claim copies, and leaves other users alone', async () => {
    const api = management(issuer);
    const configurationId = await createConfiguration(issuer);
    const user = await api.createUser({ name: 'Ada' });
    const other = await api.createUser({ name: 'Grace' });
    const pending = await createOffer(issuer, { credentials: [configurationId], userId: user.id, claims: { name: 'Ada' } });
    const redeemed = await createOffer(issuer, { credentials: [configurationId], userId: user.id, claims: { name: 'Ada' } });
    const token = (await requestToken(issuer, { 'pre-authorized_code': redeemed.code })).json().access_token as string;
    const othersOffer = await createOffer(issuer, { credentials: [configurationId], userId: other.id, claims: { name: 'Grace' } });

    expect((await api.del(`/v1/users/${user.id}`)).statusCode).toBe(204);

    expect((await api.get(`/v1/openid/offers/pre-authorized/${pending.id}`)).json().status).toBe('revoked');
    expect((await api.get(`/v1/openid/offers/pre-authorized/${redeemed.id}`)).json().status).toBe('redeemed');
    const reuse = await requestToken(issuer, { 'pre-authorized_code': pending.code });
    expect(reuse.json()).toMatchObject({ error: 'invalid_grant' });
    const credential = await requestCredential(token, configurationId);
    expect(credential.statusCode).toBe(401);
    expect(credential.json()).toMatchObject({ error: 'invalid_token' });
    const { rows } = await issuer.database.pool.query<{ id: string; claims: Record<string, unknown> }>('SELECT id, claims FROM offers WHERE user_id = $1', [user.id]);
    expect(rows.map((row) => row.claims)).toEqual([{}, {}]);

    // The other user's offer is untouched.
    expect((await api.get(`/v1/openid/offers/pre-authorized/${othersOffer.id}`)).json().status).toBe('pending');
    expect((await requestToken(issuer, { 'pre-authorized_code': othersOffer.code })).statusCode).toBe(200);
    const [deletion] = await api.eventRows(`type = 'USER_DELETE_SUCCESS' AND data->>'userId' = $1`, [user.id]);
    expect(deletion!.data).toEqual({ userId: user.id, revokedOffers: 1 });
  });
});
