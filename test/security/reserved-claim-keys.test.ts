import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGURATIONS, OFFERS, USERS, credentialRequest, type IssuerClient } from '../support/client.js';
import { expectBadRequest } from '../support/expectations.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { holderKey, proofJwt } from '../support/wallet.js';

// Claim data holding SD-JWT's own keys (`_sd`, `_sd_alg`, `...`) would be signed as given: the holder
// could then append disclosures whose digests sit in that signed `_sd`, and a verifier would see
// claims the issuer never issued. Names of Object.prototype members are corrupted by the SD-JWT
// library. Both are refused wherever claim data enters, at any depth, and once more before signing.

let issuer: TestIssuer;
let api: IssuerClient;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
  configurationId = (
    await api.createConfiguration({ claimMappings: { address: { mapFrom: 'claims.address' }, roles: { mapFrom: 'claims.roles' } } })
  ).id;
});
afterAll(() => issuer.close());

const FORGED_DIGEST = 'X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0';

describe('reserved keys in claim data', () => {
  const hostile: [string, Record<string, unknown>, string][] = [
    ['_sd inside an object', { address: { street: 'Main St', _sd: [FORGED_DIGEST] } }, 'claims.address._sd'],
    ['_sd_alg inside an object', { address: { _sd_alg: 'sha-256' } }, 'claims.address._sd_alg'],
    ['"..." as an array element', { roles: ['user', { '...': FORGED_DIGEST }] }, 'claims.roles[1]....'],
    ['_sd deep down', { address: { geo: [{ point: { _sd: [] } }] } }, 'claims.address.geo[0].point._sd'],
    ['a top-level _sd', { _sd: [FORGED_DIGEST] }, 'claims._sd'],
    ['toString', { toString: 'x' }, 'claims.toString'],
    ['valueOf, nested', { address: { valueOf: 1 } }, 'claims.address.valueOf'],
    ['constructor', { constructor: 'x' }, 'claims.constructor'],
  ];

  for (const [name, claims, param] of hostile) {
    it(`${name}: refused on POST /v1/users, PUT /v1/users/:id and offers, naming the path, writing nothing`, async () => {
      const before = await issuer.tables.counts();
      expectBadRequest(await api.post(USERS, { claims }), [param]);
      const user = await api.createUser({ name: 'Ada' });
      expectBadRequest(await api.put(`${USERS}/${user.id}`, { claims }), [param]);
      expectBadRequest(await api.post(OFFERS, { credentials: [configurationId], claims }), [param]);
      expectBadRequest(await api.post(OFFERS, { credentials: [configurationId], userId: user.id, claims, claimsToPersist: Object.keys(claims) }), [param]);
      expect(await issuer.tables.counts()).toEqual({ ...before, users: before.users + 1 });
      expect((await api.get(`${USERS}/${user.id}`)).json().claims).toEqual({ name: 'Ada' });
    });
  }

  it('refused in a claim mapping default value, and as a mapped claim name', async () => {
    const body = (claimMappings: Record<string, unknown>) => ({ type: 'https://credentials.example.com/reserved', claimMappings });
    expectBadRequest(await api.post(CONFIGURATIONS, body({ address: { mapFrom: 'claims.address', defaultValue: { _sd: [FORGED_DIGEST] } } })), [
      'claimMappings.address.defaultValue._sd',
    ]);
    expectBadRequest(await api.post(CONFIGURATIONS, body({ roles: { mapFrom: 'claims.roles', defaultValue: [{ '...': FORGED_DIGEST }] } })), [
      'claimMappings.roles.defaultValue[0]....',
    ]);
    for (const name of ['toString', 'hasOwnProperty', '__proto__']) {
      const response = await api.post(CONFIGURATIONS, body({ [name]: { mapFrom: 'claims.x' } }));
      expect(response.statusCode, response.body).toBe(400);
    }
  });

  it('ordinary look-alikes stay allowed: "sd", "_sdx", a "..." string value, "to_string"', async () => {
    const claims = { address: { sd: 1, _sdx: 2, note: '...' }, roles: ['...'], to_string: 'x' };
    const response = await api.post(USERS, { claims });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().claims).toEqual(claims);
  });

  it('claim data stored before the rule existed is refused at issuance, before anything is signed', async () => {
    const offer = await api.createOffer({ credentials: [configurationId], claims: { address: { street: 'Main St' } } });
    await issuer.database.pool.query(`UPDATE offers SET claims = $2 WHERE id = $1`, [offer.id, JSON.stringify({ address: { street: 'Main St', _sd: [FORGED_DIGEST] } })]);
    const { token } = await api.redeem(offer);
    const proof = await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce: await api.nonce() });
    const response = await api.requestCredential(token, credentialRequest(configurationId, [proof]));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'credential_request_denied', error_description: expect.stringContaining('address._sd') });
    const { rows } = await issuer.database.pool.query('SELECT count(*)::int AS n FROM credential_issuances WHERE offer_id = $1', [offer.id]);
    expect(rows[0].n).toBe(0);
  });
});
