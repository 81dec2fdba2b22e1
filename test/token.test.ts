import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../src/protocol.js';
import { OFFERS, credentialRequest, tokenForm, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

let issuer: TestIssuer;
let api: IssuerClient;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
  configurationId = (await api.createConfiguration()).id;
});
afterAll(() => issuer.close());

const withTx = () => api.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
const withoutTx = () => api.createOffer({ credentials: [configurationId] });
const expectError = (response: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, error: string) => {
  expect(response.statusCode).toBe(400);
  expect(response.json()).toEqual({ error, error_description: expect.any(String) });
  expect(response.headers['cache-control']).toBe('no-store');
};

describe('token endpoint', () => {
  it('issues a bearer token with a draft 13 c_nonce, not cacheable', async () => {
    const offer = await withTx();
    const response = await api.requestToken({ 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ access_token: expect.stringMatching(/^[\w-]{43}$/), token_type: 'Bearer', expires_in: 300, c_nonce: expect.any(String), c_nonce_expires_in: 300 });
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache' });
    const stored = await issuer.database.pool.query('SELECT status, redeemed_at FROM offers WHERE id = $1', [offer.id]);
    expect(stored.rows[0]).toMatchObject({ status: 'redeemed', redeemed_at: expect.any(Date) });
    const events = await issuer.database.pool.query(
      `SELECT type FROM events WHERE request_id = (SELECT request_id FROM events WHERE type = 'OPENID_TOKEN_CREATE_SUCCESS' AND data->>'offerId' = $1) ORDER BY seq`,
      [offer.id],
    );
    expect(events.rows.map((r) => r.type)).toEqual(['OPENID_TOKEN_CREATE_START', 'OPENID_TOKEN_CREATE_SUCCESS']);
  });

  it('rejects unknown, used, expired and revoked codes with invalid_grant', async () => {
    expectError(await api.requestToken({ 'pre-authorized_code': 'no-such-code' }), 'invalid_grant');

    const expired = await withoutTx();
    await issuer.database.pool.query("UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
    expectError(await api.requestToken({ 'pre-authorized_code': expired.code }), 'invalid_grant');

    const revoked = await withoutTx();
    expect((await api.del(`${OFFERS}/${revoked.id}`)).statusCode).toBe(204);
    expectError(await api.requestToken({ 'pre-authorized_code': revoked.code }), 'invalid_grant');
  });

  it('a replayed code fails and revokes the access token of the first redemption', async () => {
    const offer = await withoutTx();
    const first = await api.requestToken({ 'pre-authorized_code': offer.code });
    expect(first.statusCode).toBe(200);
    expectError(await api.requestToken({ 'pre-authorized_code': offer.code }), 'invalid_grant');
    const credential = await api.requestCredential(first.json().access_token, credentialRequest(configurationId, ['x']));
    expect(credential.statusCode).toBe(401);
    expect(credential.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
  });

  it('checks the transaction code before consuming the code, and locks the offer at the attempt limit', async () => {
    const offer = await withTx();
    const wrong = String(offer.transactionCode).startsWith('9') ? '100000' : '999999';
    // Each wrong code says how many attempts are left (TX_CODE_MAX_ATTEMPTS is 3).
    for (const left of ['2 attempts', '1 attempt']) {
      const refused = await api.requestToken({ 'pre-authorized_code': offer.code, tx_code: wrong });
      expectError(refused, 'invalid_grant');
      expect(refused.json().error_description).toBe(`Wrong transaction code; ${left} left before the offer is locked`);
    }
    // Still pending after two wrong codes: a typo does not burn the offer.
    const ok = await api.requestToken({ 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) });
    expect(ok.statusCode).toBe(200);

    const locked = await withTx();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await api.requestToken({ 'pre-authorized_code': locked.code, tx_code: wrong }));
    for (const answer of answers) expectError(answer, 'invalid_grant');
    expect(answers.map((answer) => answer.json().error_description)).toEqual([
      'Wrong transaction code; 2 attempts left before the offer is locked',
      'Wrong transaction code; 1 attempt left before the offer is locked',
      'Wrong transaction code; too many attempts, the offer is now locked',
    ]);
    const { rows } = await issuer.database.pool.query('SELECT status, failed_attempts FROM offers WHERE id = $1', [locked.id]);
    expect(rows[0]).toEqual({ status: 'locked', failed_attempts: 3 });
    // Locked for good, even for the right code.
    expectError(await api.requestToken({ 'pre-authorized_code': locked.code, tx_code: String(locked.transactionCode) }), 'invalid_grant');
    const status = await api.get(`${OFFERS}/${locked.id}`);
    expect(status.json().status).toBe('locked');
    const failEvents = await issuer.database.pool.query("SELECT data FROM events WHERE type = 'OPENID_TOKEN_CREATE_FAIL' AND data->>'offerId' = $1", [locked.id]);
    expect(failEvents.rows).toHaveLength(3);
    expect(JSON.stringify(failEvents.rows)).not.toContain(String(locked.transactionCode));
  });

  it('requires tx_code exactly when the offer has one (invalid_request), without counting an attempt', async () => {
    const offer = await withTx();
    expectError(await api.requestToken({ 'pre-authorized_code': offer.code }), 'invalid_request');
    const unexpected = await withoutTx();
    expectError(await api.requestToken({ 'pre-authorized_code': unexpected.code, tx_code: '123456' }), 'invalid_request');
    const { rows } = await issuer.database.pool.query('SELECT failed_attempts, status FROM offers WHERE id = ANY($1::uuid[])', [[offer.id, unexpected.id]]);
    expect(rows).toEqual([
      { failed_attempts: 0, status: 'pending' },
      { failed_attempts: 0, status: 'pending' },
    ]);
  });

  it('rejects a missing code, other grant types, repeated parameters and non-form bodies', async () => {
    expectError(await api.requestToken({}), 'invalid_request');
    expectError(await api.requestToken({ grant_type: 'authorization_code', code: 'x' }), 'unsupported_grant_type');
    const offer = await withoutTx();
    expectError(await api.requestToken(`${tokenForm({ 'pre-authorized_code': offer.code })}&pre-authorized_code=other`), 'invalid_request');
    const json = await api.post(WALLET_PATHS.token, { grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': offer.code }, null);
    expectError(json, 'invalid_request');
    // None of these consumed the code.
    expect((await api.requestToken({ 'pre-authorized_code': offer.code, unknown_parameter: 'ignored' })).statusCode).toBe(200);
  });

  it('accepts the draft 11 user_pin name for the transaction code', async () => {
    const offer = await withTx();
    expect((await api.requestToken({ 'pre-authorized_code': offer.code, user_pin: String(offer.transactionCode) })).statusCode).toBe(200);
  });
});

describe('nonce endpoint', () => {
  it('returns fresh, unpredictable c_nonces that are not cacheable', async () => {
    const responses = await Promise.all([1, 2, 3].map(() => api.requestNonce()));
    for (const response of responses) {
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
    }
    const nonces = responses.map((r) => r.json().c_nonce);
    expect(new Set(nonces).size).toBe(3);
  });
});
