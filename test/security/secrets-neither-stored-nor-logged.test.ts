import { createHash, randomBytes } from 'node:crypto';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRE_AUTHORIZED_GRANT, tokenForm } from '../support/flow.js';
import { bearer, startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { dumpDatabase, management, preAuthorizedCodeOf } from '../support/management.js';
import { holderKey, proofJwt } from '../support/wallet.js';

// A whole issuance, with its usual mistakes, through the HTTP stack; then every table and every log
// line (at trace level) is searched for the secrets and the claim values that went through it.

const PUBLIC_URL = 'https://issuer.example.com';
const marker = randomBytes(6).toString('hex');
const CLAIMS = { givenName: `Ottoline${marker}`, familyName: `Brackenridge${marker}`, address: { street: `Quince Lane ${marker}` } };
const CLAIM_VALUES = [CLAIMS.givenName, CLAIMS.familyName, CLAIMS.address.street];

let issuer: TestIssuer;
/** name → value of every secret the flow produced or used. */
const secrets: Record<string, string> = {};
let credential: string;

beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL, logLevel: 'trace' });
  const api = management(issuer);
  const inject = issuer.app.inject.bind(issuer.app);

  // An issuer back-end with a key of its own.
  const { key } = await api.createKey('issuer', 'back-end');
  secrets['API key'] = key;
  secrets.ADMIN_API_KEY = issuer.adminKey;
  const configuration = await inject({
    method: 'POST',
    url: '/v2/credentials/sd-jwt/configurations',
    headers: bearer(key),
    payload: {
      type: 'https://credentials.example.com/identity',
      claimMappings: {
        given_name: { mapFrom: 'claims.givenName', required: true },
        family_name: { mapFrom: 'claims.familyName', required: true, selectivelyDisclosable: false },
        street: { mapFrom: 'claims.address.street' },
      },
    },
  });
  expect(configuration.statusCode).toBe(201);
  const configurationId = configuration.json().id;
  const created = await inject({
    method: 'POST',
    url: '/v1/openid/offers/pre-authorized',
    headers: bearer(key),
    payload: { credentials: [configurationId], claims: CLAIMS, claimsToPersist: ['givenName'], transactionCodeConfiguration: { length: 8, inputMode: 'text' } },
  });
  expect(created.statusCode).toBe(201);
  const offer = created.json();
  secrets['pre-authorized code'] = preAuthorizedCodeOf(offer.uri);
  secrets['transaction code'] = String(offer.transactionCode);
  // A management request that fails validation with the claims in its body.
  expect((await inject({ method: 'POST', url: '/v1/users', headers: bearer(key), payload: { claims: CLAIMS, extra: true } })).statusCode).toBe(400);

  // The wallet: a mistyped transaction code first.
  const token = (fields: Record<string, string>, url = '/v1/oauth/token') =>
    inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: tokenForm({ grant_type: PRE_AUTHORIZED_GRANT, ...fields }) });
  expect((await token({ 'pre-authorized_code': secrets['pre-authorized code'], tx_code: 'WRONGCOD' })).statusCode).toBe(400);
  const redeemed = await token({ 'pre-authorized_code': secrets['pre-authorized code'], tx_code: secrets['transaction code'] });
  expect(redeemed.statusCode, redeemed.body).toBe(200);
  secrets['access token'] = redeemed.json().access_token;
  secrets['c_nonce (token response)'] = redeemed.json().c_nonce;
  const nonce = (await inject({ method: 'POST', url: '/v1/openid/nonce' })).json().c_nonce;
  secrets['c_nonce (nonce endpoint)'] = nonce;

  const holder = await holderKey();
  secrets['holder private key'] = (await exportJWK(holder.privateKey)).d!;
  const credentialRequest = (body: unknown) => inject({ method: 'POST', url: '/v1/openid/credential', headers: bearer(secrets['access token']!), payload: body as object });
  // A proof for the wrong audience (draft 13: the error carries a fresh c_nonce), then the right one.
  const refused = await credentialRequest({
    format: 'dc+sd-jwt',
    vct: 'https://credentials.example.com/identity',
    proof: { proof_type: 'jwt', jwt: await proofJwt(holder, { aud: 'https://other.example.com', nonce: secrets['c_nonce (token response)'] }) },
  });
  expect(refused.statusCode).toBe(400);
  secrets['c_nonce (error response)'] = refused.json().c_nonce;
  secrets['proof JWT'] = await proofJwt(holder, { aud: PUBLIC_URL, nonce });
  const issued = await credentialRequest({ credential_configuration_id: configurationId, proofs: { jwt: [secrets['proof JWT']] } });
  expect(issued.statusCode, issued.body).toBe(200);
  credential = issued.json().credentials[0].credential;
  secrets.credential = credential;

  // A wallet that puts another offer's code in the query string as well as the body.
  const other = await api.createOffer({ credentials: [configurationId], claims: CLAIMS });
  secrets['second pre-authorized code'] = preAuthorizedCodeOf(other.uri);
  const misplaced = await token(
    { 'pre-authorized_code': secrets['second pre-authorized code'] },
    `/v1/oauth/token?pre-authorized_code=${encodeURIComponent(secrets['second pre-authorized code'])}`,
  );
  expect(misplaced.statusCode).toBe(200);
  // The first code replayed (invalid_grant, and its token revoked), the status read back.
  expect((await token({ 'pre-authorized_code': secrets['pre-authorized code'], tx_code: secrets['transaction code'] })).statusCode).toBe(400);
  expect((await api.get(`/v1/openid/offers/pre-authorized/${offer.id}`, key)).json().status).toBe('redeemed');
  expect((await api.get('/v1/analytics/events?limit=1000', key)).statusCode).toBe(403);
  expect((await api.get('/v1/analytics/events?limit=1000')).statusCode).toBe(200);
});
afterAll(() => issuer.close());

/** The forms a secret could take in storage: as is, encoded, or hashed without a key. */
function encodings(secret: string, withDigests: boolean): string[] {
  const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), Buffer.from(secret).toString('hex')];
  if (withDigests) {
    for (const algorithm of ['sha256', 'sha512', 'sha1', 'md5']) {
      const digest = createHash(algorithm).update(secret).digest();
      forms.push(digest.toString('hex'), digest.toString('base64url'), digest.toString('base64'));
    }
  }
  return forms;
}

describe('secrets at rest', () => {
  it('no table holds a plaintext (or encoded, or unkeyed-hash) pre-authorized code, transaction code, access token, c_nonce, API key or credential', async () => {
    expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(12);
    const dump = await dumpDatabase(issuer);
    // The scan sees what the flow stored (so a stored secret would show).
    expect(dump.tables).toEqual(expect.arrayContaining(['offers', 'access_tokens', 'used_nonces', 'credential_issuances', 'api_keys', 'events', 'users']));
    expect(dump.text).toContain(CLAIMS.familyName);
    for (const [name, secret] of Object.entries(secrets)) {
      // A used c_nonce is stored as its SHA-256 (a MAC'd random value, not a password); an issuance
      // record holds the SHA-256 of its credential (it identifies the credential, it is no key).
      const withDigests = !name.startsWith('c_nonce') && name !== 'credential';
      for (const form of encodings(secret, withDigests)) expect(dump.text.includes(form), `${name} stored as ${form.slice(0, 20)}…`).toBe(false);
    }
    // Credential values live in the offer's snapshot only: the issuance record holds a hash.
    const { rows } = await issuer.database.pool.query('SELECT * FROM credential_issuances');
    expect(rows).toHaveLength(1);
    for (const value of CLAIM_VALUES) expect(JSON.stringify(rows)).not.toContain(value);
    // Keys at rest: the issuer's private key is encrypted, never a PEM or a JWK with d.
    expect(dump.text).not.toMatch(/PRIVATE KEY|"d":/);
  });
});

describe('secrets in logs', () => {
  it('the log of the whole flow (every level down to trace) holds none of the secrets, no claim value and no disclosure', () => {
    const log = issuer.logs.join('\n');
    // The capture works: the flow's requests are there, successes and failures.
    expect(log).toMatch(/"url":"\/v1\/oauth\/token","statusCode":200/);
    expect(log).toMatch(/"url":"\/v1\/oauth\/token","statusCode":400/);
    expect(log).toMatch(/"url":"\/v1\/openid\/credential","statusCode":400/);
    expect(log).toMatch(/"url":"\/v1\/users","statusCode":400/);
    expect(issuer.logs.length).toBeGreaterThan(10);

    for (const [name, secret] of Object.entries(secrets)) {
      for (const form of encodings(secret, false)) expect(log.includes(form), `${name} logged`).toBe(false);
      expect(log.includes(encodeURIComponent(secret)), `${name} logged URL-encoded`).toBe(false);
    }
    for (const value of CLAIM_VALUES) expect(log, value).not.toContain(value);
    // Nor the disclosures of the credential (base64url of [salt, name, value]).
    for (const disclosure of credential.split('~').slice(1, -1)) expect(log).not.toContain(disclosure);
    expect(log).not.toContain(credential.split('~')[0]!.split('.')[1]!);
  });
});
