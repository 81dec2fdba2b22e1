import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WALLET_PATHS } from '../../src/protocol.js';
import { WEBHOOK_EVENTS } from '../../src/webhooks/events.js';
import { EVENTS, IACAS, OFFERS, USERS, credentialRequest, draft13CredentialRequest, tokenForm } from '../support/client.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { MDL_CLAIMS, MDL_CONFIGURATION } from '../support/mdoc.js';
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
let holder: Awaited<ReturnType<typeof holderKey>>;

beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL, logLevel: 'trace' });
  const api = issuer.client;

  // An issuer back-end with a key of its own.
  const { key } = await api.createKey('issuer', 'back-end');
  secrets['API key'] = key;
  secrets.ADMIN_API_KEY = issuer.adminKey;
  // A webhook for every event: its secret is kept (encrypted) and its payloads are stored too.
  const webhook = await api.post('/v1/webhooks', { url: 'https://hooks.example.com/issuer', events: [...WEBHOOK_EVENTS] });
  expect(webhook.statusCode, webhook.body).toBe(201);
  secrets['webhook signing secret'] = webhook.json().secret;
  const backEnd = api.as(key);
  const { id: configurationId } = await backEnd.createConfiguration({
    type: 'https://credentials.example.com/identity',
    claimMappings: {
      given_name: { mapFrom: 'claims.givenName', required: true },
      family_name: { mapFrom: 'claims.familyName', required: true, selectivelyDisclosable: false },
      street: { mapFrom: 'claims.address.street' },
    },
  });
  const offer = await backEnd.createOffer({ credentials: [configurationId], claims: CLAIMS, claimsToPersist: ['givenName'], transactionCodeConfiguration: { length: 8, inputMode: 'text' } });
  secrets['pre-authorized code'] = offer.code;
  secrets['transaction code'] = String(offer.transactionCode);
  // A management request that fails validation with the claims in its body.
  expect((await backEnd.post(USERS, { claims: CLAIMS, extra: true })).statusCode).toBe(400);

  // The wallet: a mistyped transaction code first.
  expect((await api.requestToken({ 'pre-authorized_code': secrets['pre-authorized code'], tx_code: 'WRONGCOD' })).statusCode).toBe(400);
  const redeemed = await api.redeem(offer);
  secrets['access token'] = redeemed.token;
  secrets['c_nonce (token response)'] = redeemed.cNonce;
  const nonce = await api.nonce();
  secrets['c_nonce (nonce endpoint)'] = nonce;

  holder = await holderKey();
  secrets['holder private key'] = (await exportJWK(holder.privateKey)).d!;
  // A proof for the wrong audience (draft 13: the error carries a fresh c_nonce), then the right one.
  const wrongAudience = await proofJwt(holder, { aud: 'https://other.example.com', nonce: secrets['c_nonce (token response)'] });
  const refused = await api.requestCredential(redeemed.token, draft13CredentialRequest('https://credentials.example.com/identity', wrongAudience, 'dc+sd-jwt'));
  expect(refused.statusCode).toBe(400);
  secrets['c_nonce (error response)'] = refused.json().c_nonce;
  secrets['proof JWT'] = await proofJwt(holder, { aud: PUBLIC_URL, nonce });
  const issued = await api.requestCredential(redeemed.token, credentialRequest(configurationId, [secrets['proof JWT']]));
  expect(issued.statusCode, issued.body).toBe(200);
  credential = issued.json().credentials[0].credential;
  secrets.credential = credential;

  // A wallet that puts another offer's code in the query string as well as the body.
  const other = await api.createOffer({ credentials: [configurationId], claims: CLAIMS });
  secrets['second pre-authorized code'] = other.code;
  const misplaced = await api.send({
    method: 'POST',
    path: `${WALLET_PATHS.token}?pre-authorized_code=${encodeURIComponent(other.code)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenForm({ 'pre-authorized_code': other.code }),
  });
  expect(misplaced.statusCode).toBe(200);
  // The first code replayed (invalid_grant, and its token revoked), the status read back.
  expect((await api.requestToken({ 'pre-authorized_code': offer.code, tx_code: secrets['transaction code'] })).statusCode).toBe(400);
  expect((await backEnd.get(`${OFFERS}/${offer.id}`)).json().status).toBe('redeemed');
  expect((await backEnd.get(`${EVENTS}?limit=1000`)).statusCode).toBe(403);
  expect((await api.get(`${EVENTS}?limit=1000`)).statusCode).toBe(200);

  // An mDL under a managed IACA, from the same claim values: the IACA and its document signer have
  // private keys of their own, and the mDoc is a credential like the SD-JWT.
  const iaca = await backEnd.createIaca();
  expect((await backEnd.put(`${IACAS}/${iaca.id}`, { active: true })).statusCode).toBe(200);
  const mdl = await backEnd.createMdocConfiguration(MDL_CONFIGURATION);
  const mdlSession = await backEnd.startSession({ credentials: [mdl.id], claims: { ...MDL_CLAIMS, familyName: CLAIMS.familyName, givenName: CLAIMS.givenName } });
  secrets['mDoc access token'] = mdlSession.token;
  const mdoc = await api.requestCredential(mdlSession.token, credentialRequest(mdl.id, [await proofJwt(holder, { aud: PUBLIC_URL, nonce: await api.nonce() })]));
  expect(mdoc.statusCode, mdoc.body).toBe(200);
  secrets['mDoc credential'] = mdoc.json().credentials[0].credential;
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
    const dump = await issuer.tables.dump();
    // The scan sees what the flow stored (so a stored secret would show).
    expect(dump.tables).toEqual(expect.arrayContaining(['offers', 'access_tokens', 'used_nonces', 'credential_issuances', 'api_keys', 'events', 'users', 'iacas', 'document_signers']));
    expect(dump.text).toContain(CLAIMS.familyName);
    for (const [name, secret] of Object.entries(secrets)) {
      // A used c_nonce is stored as its SHA-256 (a MAC'd random value, not a password); an issuance
      // record holds the SHA-256 of its credential (it identifies the credential, it is no key).
      const withDigests = !name.startsWith('c_nonce') && !name.endsWith('credential');
      for (const form of encodings(secret, withDigests)) expect(dump.text.includes(form), `${name} stored as ${form.slice(0, 20)}…`).toBe(false);
    }
    // Credential values live in the offer's snapshot only: the issuance record holds a hash.
    const { rows } = await issuer.database.pool.query('SELECT * FROM credential_issuances');
    expect(rows).toHaveLength(2);
    for (const value of CLAIM_VALUES) expect(JSON.stringify(rows)).not.toContain(value);
    // Nor do webhook payloads (the secrets were searched for in every table above).
    const { rows: deliveries } = await issuer.database.pool.query('SELECT event_type, payload FROM webhook_deliveries');
    expect(new Set(deliveries.map((row) => row.event_type))).toEqual(new Set(['offer.created', 'offer.redeemed', 'credential.issued']));
    for (const value of CLAIM_VALUES) expect(JSON.stringify(deliveries)).not.toContain(value);
    // Keys at rest: the issuer's private key is encrypted, never a PEM or a JWK with d; so are the
    // IACA's and the document signer's (sealed PKCS#8: no plaintext key is a prefix of what is stored).
    expect(dump.text).not.toMatch(/PRIVATE KEY|"d":/);
    const { rows: sealed } = await issuer.database.pool.query("SELECT private_key FROM iacas UNION ALL SELECT private_key FROM document_signers");
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    for (const { private_key } of sealed) {
      expect(() => createPrivateKey({ key: private_key, format: 'der', type: 'pkcs8' })).toThrow();
      expect(createPrivateKey({ key: issuer.secrets.decrypt(private_key), format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('ec');
    }
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
