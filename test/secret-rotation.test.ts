import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { SecretKeys } from '../src/crypto/secrets.js';
import { storedSecret } from '../src/crypto/stored-secrets.js';
import { API_KEYS, OFFERS, credentialRequest, type CreatedOffer, type IssuerClient } from './support/client.js';
import type { CreatedDatabase } from './support/databases.js';
import { createTestDatabase, startTestIssuer, type TestIssuer } from './support/issuer.js';
import { MDL_CLAIMS, MDL_CONFIGURATION } from './support/mdoc.js';
import { holderKey, proofJwt } from './support/wallet.js';

// SECRET rotation through the whole stack on one real database: values stored under secret A keep
// working after a restart with SECRET=B SECRET_PREVIOUS=A (on two instances at once), new ones use B,
// and after a restart with B alone what still depended on A fails cleanly. Rows from before key ids
// (no secret_key_id, private keys sealed without one) count as made under the secret of their time.

const PUBLIC_URL = 'https://issuer.example.com';
const A = 'rotation-secret-A-0123456789-abcdefghijklmnopqrstuvwxyz';
const B = 'rotation-secret-B-0123456789-abcdefghijklmnopqrstuvwxyz';
const C = 'rotation-secret-C-0123456789-abcdefghijklmnopqrstuvwxyz';
const keysA = new SecretKeys(A);
const keysB = new SecretKeys(B);

const start = (databaseUrl: string, env: Record<string, string>) => startTestIssuer({ databaseUrl, publicUrl: PUBLIC_URL, env: { ...env, LOG_LEVEL: 'warn' } });

/** A private key sealed as before key ids: IV, tag, ciphertext under A's encryption key. */
function sealedWithoutKeyId(plaintext: Buffer): Buffer {
  const key = Buffer.from(hkdfSync('sha256', A, 'vci-issuer', 'encrypt', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

const proof = async (nonce: string) => proofJwt(await holderKey(), { aud: PUBLIC_URL, nonce });
const referencePath = (offer: CreatedOffer) => new URL(decodeURIComponent(/credential_offer_uri=([^&]+)/.exec(offer.uri)![1]!)).pathname;
const qrSvg = (api: IssuerClient, id: string) => api.call('GET', `${OFFERS}/${id}/qrcode`, undefined, undefined, { accept: 'image/svg+xml' });

let database: CreatedDatabase;
/** What was made under A, before the rotation. */
const made = {} as {
  sdJwt: string;
  mdoc: string;
  kid: string;
  keys: { used: string; unused: string; legacy: string; legacyId: string };
  offers: { byValue: CreatedOffer; byReference: CreatedOffer; legacy: CreatedOffer; leftUnused: CreatedOffer };
  referenceQr: string;
  tokens: { used: string; leftUnused: string };
  nonce: string;
  webhookSecret: string;
};

beforeAll(async () => {
  database = await createTestDatabase();
  const issuer = await start(database.url, { SECRET: A });
  try {
    const api = issuer.client;
    made.sdJwt = (await api.createConfiguration()).id;
    made.mdoc = (await api.createMdocConfiguration(MDL_CONFIGURATION)).id;
    await api.activeIaca();
    const key = async () => (await api.createKey('issuer')).key;
    const legacy = await api.createKey('issuer');
    made.keys = { used: await key(), unused: await key(), legacy: legacy.key, legacyId: legacy.id };
    const offer = (body: Record<string, unknown> = {}) => api.createOffer({ credentials: [made.sdJwt], claims: { name: 'Ada' }, ...body });
    made.offers = {
      byValue: await offer({ transactionCodeConfiguration: { length: 6, inputMode: 'numeric' } }),
      byReference: await offer({ byReference: true }),
      legacy: await offer(),
      leftUnused: await offer(),
    };
    made.referenceQr = (await qrSvg(api, made.offers.byReference.id)).body;
    made.tokens = { used: (await api.startSession({ credentials: [made.sdJwt], claims: { name: 'Ada' } })).token, leftUnused: (await api.startSession({ credentials: [made.sdJwt] })).token };
    made.nonce = await api.nonce();
    const webhook = await api.post('/v1/webhooks', { url: 'https://hooks.example.com/vci', events: ['offer.created'], disabled: true });
    expect(webhook.statusCode, webhook.body).toBe(201);
    made.webhookSecret = webhook.json().secret;
    // A document signer is issued (and its key sealed) with the first mDoc.
    const mdocSession = await api.startSession({ credentials: [made.mdoc], claims: MDL_CLAIMS });
    expect((await api.requestCredential(mdocSession.token, credentialRequest(made.mdoc, [await proof(await api.nonce())]))).statusCode).toBe(200);
    made.kid = (await issuer.database.pool.query<{ kid: string }>(`SELECT kid FROM issuer_keys WHERE status = 'active'`)).rows[0]!.kid;

    // Every stored value names A's key id ...
    const { pool } = issuer.database;
    for (const table of ['api_keys', 'offers', 'access_tokens']) {
      expect((await pool.query(`SELECT DISTINCT secret_key_id FROM ${table}`)).rows, table).toEqual([{ secret_key_id: keysA.keyId }]);
    }
    // ... but these, as if written before key ids.
    await pool.query('UPDATE api_keys SET secret_key_id = NULL WHERE id = $1', [legacy.id]);
    await pool.query('UPDATE offers SET secret_key_id = NULL WHERE id = $1', [made.offers.legacy.id]);
    const { rows } = await pool.query<{ kid: string; private_key: Buffer }>('SELECT kid, private_key FROM issuer_keys');
    for (const row of rows) await pool.query('UPDATE issuer_keys SET private_key = $2 WHERE kid = $1', [row.kid, sealedWithoutKeyId(keysA.decrypt(row.private_key))]);
  } finally {
    await issuer.close();
  }
});
afterAll(() => database?.drop());

describe('SECRET=B with SECRET_PREVIOUS=A', () => {
  let first: TestIssuer;
  let second: TestIssuer;
  beforeAll(async () => {
    [first, second] = await Promise.all([start(database.url, { SECRET: B, SECRET_PREVIOUS: A }), start(database.url, { SECRET: B, SECRET_PREVIOUS: A })]);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('seals every private key and webhook secret again under B at start (two instances starting at once), and keeps signing with the same keys', async () => {
    const { pool } = first.database;
    const sealed = [
      ...(await pool.query<{ private_key: Buffer }>('SELECT private_key FROM issuer_keys')).rows,
      ...(await pool.query<{ private_key: Buffer }>('SELECT private_key FROM iacas WHERE private_key IS NOT NULL')).rows,
      ...(await pool.query<{ private_key: Buffer }>('SELECT private_key FROM document_signers')).rows,
    ];
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    const [webhook] = (await pool.query<{ secret: Buffer }>('SELECT secret FROM webhooks')).rows;
    expect(keysB.decrypt(webhook!.secret).toString()).toBe(made.webhookSecret);
    for (const { private_key } of sealed) {
      expect(() => keysB.decrypt(private_key)).not.toThrow();
      expect(() => keysA.decrypt(private_key)).toThrow(/neither SECRET nor SECRET_PREVIOUS/);
    }

    const session = await first.client.startSession({ credentials: [made.sdJwt], claims: { name: 'Grace' } });
    const issued = await first.client.requestCredential(session.token, credentialRequest(made.sdJwt, [await proof(await first.client.nonce())]));
    expect(issued.statusCode, issued.body).toBe(200);
    expect(decodeProtectedHeader(issued.json().credentials[0].credential.split('~')[0]).kid).toBe(made.kid);
    const mdocSession = await second.client.startSession({ credentials: [made.mdoc], claims: MDL_CLAIMS });
    const mdoc = await second.client.requestCredential(mdocSession.token, credentialRequest(made.mdoc, [await proof(await second.client.nonce())]));
    expect(mdoc.statusCode, mdoc.body).toBe(200);
  });

  it('accepts API keys stored under A (with or without a key id), on both instances at once, and hashes them again under B', async () => {
    const answers = await Promise.all([made.keys.used, made.keys.legacy].flatMap((key) => [first, second].map((issuer) => issuer.client.as(key).get(OFFERS))));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    const { rows } = await first.database.pool.query<{ key_hash: Buffer; secret_key_id: string }>('SELECT key_hash, secret_key_id FROM api_keys WHERE key_hash = ANY($1)', [
      [made.keys.used, made.keys.legacy].map((key) => storedSecret.apiKey(keysB, key)),
    ]);
    expect(rows.map((row) => row.secret_key_id)).toEqual([keysB.keyId, keysB.keyId]);
  });

  it('redeems offers made under A: a wrong transaction code counts, the right one redeems; by reference, the same URL and code', async () => {
    const api = first.client;
    const wrongCode = String((Number(made.offers.byValue.transactionCode) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await api.requestToken({ 'pre-authorized_code': made.offers.byValue.code, tx_code: wrongCode });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/^Wrong transaction code/) });
    await api.redeem(made.offers.byValue);
    await api.redeem(made.offers.legacy);

    const fetched = await api.get(referencePath(made.offers.byReference), null);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json().grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code']).toBe(made.offers.byReference.code);
    expect((await qrSvg(api, made.offers.byReference.id)).body).toBe(made.referenceQr);
    await api.redeem(made.offers.byReference);
  });

  it('accepts an access token and a c_nonce issued under A', async () => {
    const issued = await second.client.requestCredential(made.tokens.used, credentialRequest(made.sdJwt, [await proof(made.nonce)]));
    expect(issued.statusCode, issued.body).toBe(200);
  });

  it('stores what it makes now under B', async () => {
    const key = await first.client.createKey('auditor');
    const offer = await first.client.createOffer({ credentials: [made.sdJwt], claims: { name: 'Alan' } });
    await first.client.redeem(offer);
    const { pool } = first.database;
    expect((await pool.query('SELECT secret_key_id FROM api_keys WHERE id = $1', [key.id])).rows).toEqual([{ secret_key_id: keysB.keyId }]);
    expect((await pool.query('SELECT secret_key_id FROM offers WHERE id = $1', [offer.id])).rows).toEqual([{ secret_key_id: keysB.keyId }]);
    expect((await pool.query('SELECT t.secret_key_id FROM access_tokens t WHERE offer_id = $1', [offer.id])).rows).toEqual([{ secret_key_id: keysB.keyId }]);
  });
});

describe('then SECRET=B alone', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await start(database.url, { SECRET: B });
  });
  afterAll(() => issuer?.close());

  it('refuses what depended on A alone cleanly (401, invalid_grant, invalid_token), and serves what moved to B', async () => {
    const api = issuer.client;
    const unusedKey = await api.as(made.keys.unused).get(OFFERS);
    expect(unusedKey.statusCode).toBe(401);
    expect(unusedKey.json()).toMatchObject({ code: expect.any(String), message: expect.stringMatching(/valid API key/) });
    expect((await api.as(made.keys.used).get(API_KEYS)).statusCode).toBe(403);
    expect((await api.as(made.keys.used).get(OFFERS)).statusCode).toBe(200);

    const offer = await api.requestToken({ 'pre-authorized_code': made.offers.leftUnused.code });
    expect(offer.statusCode).toBe(400);
    expect(offer.json()).toEqual({ error: 'invalid_grant', error_description: 'Unknown pre-authorized code' });

    const token = await api.requestCredential(made.tokens.leftUnused, credentialRequest(made.sdJwt, [await proof(await api.nonce())]));
    expect(token.statusCode).toBe(401);
    expect(token.json()).toMatchObject({ error: 'invalid_token' });
    const nonce = await api.requestCredential((await api.startSession({ credentials: [made.sdJwt], claims: { name: 'Ada' } })).token, credentialRequest(made.sdJwt, [await proof(made.nonce)]));
    expect(nonce.statusCode).toBe(400);
    expect(nonce.json()).toMatchObject({ error: 'invalid_nonce' });

    const qr = await qrSvg(api, made.offers.byReference.id);
    expect(qr.statusCode).toBe(409);
    expect(qr.json().message).toMatch(/neither SECRET nor SECRET_PREVIOUS/);

    const session = await api.startSession({ credentials: [made.sdJwt], claims: { name: 'Ada' } });
    expect((await api.requestCredential(session.token, credentialRequest(made.sdJwt, [await proof(await api.nonce())]))).statusCode).toBe(200);
  });
});

describe('a SECRET that opens no private key, without SECRET_PREVIOUS', () => {
  it('is refused at start in one line naming SECRET_PREVIOUS, before anything is served', async () => {
    const refused = await start(database.url, { SECRET: C }).then(
      async (issuer) => (await issuer.close(), undefined),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/^Invalid configuration: a stored private key or webhook secret is sealed under a secret that is neither SECRET nor SECRET_PREVIOUS \(key id [\w-]+\); set SECRET_PREVIOUS[^\n]*$/);
  });
});
