import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, exportSPKI, importJWK, importX509, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretKeys } from '../src/crypto/secrets.js';
import { issueNonce } from '../src/crypto/c-nonce.js';
import { PROOF_TYP } from '../src/protocol.js';
import { CONFIGURATIONS, ISSUER_KEYS, OFFERS, credentialRequest, draft13CredentialRequest, type HttpResponse as Response, type IssuerClient } from './support/client.js';
import { b64json, handmadeJws, proofHeader } from './support/hostile-proofs.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt, type HolderKey } from './support/wallet.js';

// The credential endpoint, through Fastify's whole HTTP stack and a real PostgreSQL.

const PUBLIC_URL = 'https://issuer.example.com';
const VCT = 'https://credentials.example.com/identity';
const OTHER_VCT = 'https://credentials.example.com/other';

// Claim values distinctive enough to search the database for.
const marker = randomBytes(6).toString('hex');
const GIVEN_NAME = `Zephyrine${marker}`;
const FAMILY_NAME = `Quillfeather${marker}`;
const CLAIMS = { givenName: GIVEN_NAME, familyName: FAMILY_NAME, name: 'Ada' };
const IDENTITY_CONFIGURATION = {
  type: VCT,
  claimMappings: {
    given_name: { mapFrom: 'claims.givenName', required: true },
    family_name: { mapFrom: 'claims.familyName', required: true, selectivelyDisclosable: false },
    nationality: { mapFrom: 'claims.nationality', defaultValue: 'NL' },
    holder_id: { mapFrom: 'user.id' },
  },
  expiresIn: { days: 30 },
};
const RESERVED_CLAIMS = ['iss', 'vct', 'iat', 'exp', 'nbf', 'cnf', 'status', '_sd', '_sd_alg'];

let issuer: TestIssuer;
let api: IssuerClient;
let configurationId: string;
let otherConfigurationId: string;
let holder: HolderKey;

beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
  configurationId = (await api.createConfiguration(IDENTITY_CONFIGURATION)).id;
  otherConfigurationId = (await api.createConfiguration({ type: OTHER_VCT })).id;
  holder = await holderKey();
});
afterAll(() => issuer.close());

// --- helpers ---

/** A wallet session on an offer of `configurationIds` with `claims`. */
const redeem = (configurationIds = [configurationId], claims: Record<string, unknown> = CLAIMS, on = api) => on.startSession({ credentials: configurationIds, claims });

/** A valid proof for `key`, bound to `nonce`. */
const proof = (key: HolderKey, nonce: string, claims: { aud?: string; iat?: number } = {}, header: Record<string, unknown> = {}) =>
  proofJwt(key, { aud: PUBLIC_URL, nonce, ...claims }, header);

const request10 = (...jwts: string[]) => credentialRequest(configurationId, jwts);
const requestDraft13 = (jwt: string, vct = VCT) => draft13CredentialRequest(vct, jwt);

const now = () => Math.floor(Date.now() / 1000);

const proofPayload = (nonce: string) => ({ aud: PUBLIC_URL, iat: now(), nonce });

function expectOAuthError(response: Response, error: string, status = 400) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.json()).toMatchObject({ error, error_description: expect.any(String) });
  expect(response.headers['cache-control']).toBe('no-store');
}

/** RFC 6750 §3: 401, the challenge names the realm and, when a token was sent, the error. */
function expectInvalidToken(response: Response, tokenSent = true) {
  expect(response.statusCode, response.body).toBe(401);
  const challenge = response.headers['www-authenticate'] as string;
  expect(challenge).toMatch(/^Bearer realm="[^"]+"/);
  if (tokenSent) expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
  else expect(challenge).not.toMatch(/error=/);
  expect(response.json()).toMatchObject({ error: 'invalid_token' });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

interface Disclosure {
  encoded: string;
  salt: string;
  name: string;
  value: unknown;
}

interface OpenedCredential {
  header: ReturnType<typeof decodeProtectedHeader>;
  payload: JWTPayload & Record<string, unknown>;
  disclosures: Disclosure[];
}

/**
 * Splits an SD-JWT (`<JWT>~<D1>~…~`), checks its signature both with the leaf of its x5c and with the
 * key the issuer publishes for its kid at /.well-known/jwt-vc-issuer, and decodes the disclosures.
 */
async function openCredential(credential: string, typ = 'dc+sd-jwt'): Promise<OpenedCredential> {
  expect(credential.endsWith('~')).toBe(true);
  const [jwt, ...rest] = credential.split('~');
  const header = decodeProtectedHeader(jwt!);
  expect(header).toMatchObject({ typ, alg: 'ES256', kid: expect.any(String), x5c: expect.any(Array) });
  expect(header.x5c!.length).toBeGreaterThanOrEqual(1);

  const leaf = await importX509(`-----BEGIN CERTIFICATE-----\n${header.x5c![0]}\n-----END CERTIFICATE-----`, 'ES256');
  const { payload } = await jwtVerify(jwt!, leaf, { typ, algorithms: ['ES256'] });
  const metadata = await api.metadata('jwtVcIssuer');
  expect(metadata.issuer).toBe(PUBLIC_URL);
  await jwtVerify(jwt!, createLocalJWKSet(metadata.jwks), { typ, algorithms: ['ES256'] });

  const disclosures = rest.slice(0, -1).map((encoded) => {
    const [salt, name, value] = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as [string, string, unknown];
    return { encoded, salt, name, value };
  });
  return { header, payload: payload as OpenedCredential['payload'], disclosures };
}

async function issuanceRows(offerId: string) {
  const { rows } = await issuer.database.pool.query('SELECT * FROM credential_issuances WHERE offer_id = $1 ORDER BY holder_key_thumbprint', [offerId]);
  return rows;
}

async function eventsOf(requestId: string) {
  const { rows } = await issuer.database.pool.query<{ type: string; category: string; data: Record<string, unknown> }>(
    'SELECT type, category, data FROM events WHERE request_id = $1 ORDER BY seq',
    [requestId],
  );
  return rows;
}

// --- tests ---

describe('access token', () => {
  it('answers 401 invalid_token for a missing header, a scheme other than Bearer, and a Bearer token sent as DPoP', async () => {
    const { token } = await redeem();
    const body = request10(await proof(holder, await api.nonce()));
    const missing = await api.requestCredential(undefined, body);
    expectInvalidToken(missing, false);
    // RFC 9449 §7.1: the challenge also offers DPoP, with the algorithms it takes.
    expect(missing.headers['www-authenticate']).toMatch(/, DPoP realm="[^"]+", algs="ES256"$/);
    const asDpop = await api.requestCredential(undefined, body, { authorization: `DPoP ${token}` });
    expect(asDpop.statusCode).toBe(401);
    expect(asDpop.headers['www-authenticate']).toMatch(/^DPoP realm="[^"]+", error="invalid_token"/);
    expectInvalidToken(await api.requestCredential(undefined, body, { authorization: `Basic ${Buffer.from(`wallet:${token}`).toString('base64')}` }));
    expectInvalidToken(await api.requestCredential(undefined, body, { authorization: token }));
    // The same token as Bearer is accepted: the body is what fails.
    expectOAuthError(await api.requestCredential(token, {}), 'invalid_credential_request');
  });

  it('answers 401 invalid_token for an unknown token, even with a malformed body', async () => {
    expectInvalidToken(await api.requestCredential(randomBytes(32).toString('base64url'), request10('x')));
    expectInvalidToken(await api.requestCredential(randomBytes(32).toString('base64url'), '{not json'));
  });

  it('answers 401 invalid_token once the token has expired', async () => {
    const { offer, token } = await redeem();
    const body = request10(await proof(holder, await api.nonce()));
    expectOAuthError(await api.requestCredential(token, {}), 'invalid_credential_request');
    await issuer.database.pool.query("UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE offer_id = $1", [offer.id]);
    expectInvalidToken(await api.requestCredential(token, body));
    expect(await issuanceRows(offer.id)).toEqual([]);
  });

  it('answers 401 invalid_token once the offer has been revoked through the management API', async () => {
    const { offer, token } = await redeem();
    const body = request10(await proof(holder, await api.nonce()));
    expectOAuthError(await api.requestCredential(token, {}), 'invalid_credential_request');
    const revoked = await api.del(`${OFFERS}/${offer.id}`);
    expect(revoked.statusCode).toBe(204);
    expectInvalidToken(await api.requestCredential(token, body));
    expect(await issuanceRows(offer.id)).toEqual([]);
  });
});

describe('OpenID4VCI 1.0 request', () => {
  it('issues a key-bound dc+sd-jwt SD-JWT VC in { credentials: [{ credential }] }, not cacheable', async () => {
    const { offer, token } = await redeem();
    const before = now();
    const response = await api.requestCredential(token, request10(await proof(holder, await api.nonce())));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toEqual({ credentials: [{ credential: expect.any(String) }], notification_id: expect.any(String) });

    const { header, payload, disclosures } = await openCredential(body.credentials[0].credential);
    const keys = await api.get(ISSUER_KEYS);
    expect(keys.json().data.find((key: { status: string }) => key.status === 'active').kid).toBe(header.kid);

    expect(payload.iss).toBe(PUBLIC_URL);
    expect(payload.vct).toBe(VCT);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(now());
    expect(payload.exp).toBe(payload.iat! + 30 * 24 * 3600);
    expect(payload.cnf).toEqual({ jwk: holder.publicJwk });
    expect(payload._sd_alg).toBe('sha-256');

    // Plain claims are plain; selectively disclosable ones exist only as disclosures whose digests are in _sd.
    expect(payload.family_name).toBe(FAMILY_NAME);
    for (const name of ['given_name', 'nationality', 'holder_id']) expect(payload).not.toHaveProperty(name);
    expect(Object.fromEntries(disclosures.map((d) => [d.name, d.value]))).toEqual({ given_name: GIVEN_NAME, nationality: 'NL', holder_id: offer.userId });
    const digests = payload._sd as string[];
    expect(digests).toHaveLength(disclosures.length);
    for (const disclosure of disclosures) expect(digests).toContain(sha256(disclosure.encoded));
    // Fresh 128-bit salts.
    for (const { salt } of disclosures) expect(Buffer.from(salt, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(new Set(disclosures.map((d) => d.salt)).size).toBe(disclosures.length);
    // Reserved claims are never disclosures, and the ones the issuer sets are in the clear.
    for (const name of RESERVED_CLAIMS) expect(disclosures.map((d) => d.name)).not.toContain(name);
    for (const name of ['iss', 'vct', 'iat', 'exp', 'cnf']) expect(payload).toHaveProperty(name);
  });

  it('issues a batch: one credential per proof, each bound to its own proof key, all proofs sharing one c_nonce', async () => {
    const { offer, token } = await redeem();
    const holders = await Promise.all([holderKey(), holderKey(), holderKey()]);
    const nonce = await api.nonce();
    const response = await api.requestCredential(token, request10(...(await Promise.all(holders.map((key) => proof(key, nonce))))));
    expect(response.statusCode, response.body).toBe(200);
    const { credentials } = response.json() as { credentials: { credential: string }[] };
    expect(credentials).toHaveLength(3);
    const opened = await Promise.all(credentials.map(({ credential }) => openCredential(credential)));
    opened.forEach(({ payload }, index) => expect(payload.cnf).toEqual({ jwk: holders[index]!.publicJwk }));
    // No salt is shared between the credentials of a batch.
    const salts = opened.flatMap(({ disclosures }) => disclosures.map((d) => d.salt));
    expect(new Set(salts).size).toBe(salts.length);

    const thumbprints = await Promise.all(holders.map((key) => calculateJwkThumbprint(key.publicJwk)));
    expect((await issuanceRows(offer.id)).map((row) => row.holder_key_thumbprint)).toEqual([...thumbprints].sort());
  });

  it('rejects more proofs than batch_size (default 10) with invalid_credential_request, consuming nothing', async () => {
    const { offer, token } = await redeem();
    const nonce = await api.nonce();
    const holders = await Promise.all(Array.from({ length: 11 }, () => holderKey()));
    const proofs = await Promise.all(holders.map((key) => proof(key, nonce)));
    expectOAuthError(await api.requestCredential(token, request10(...proofs)), 'invalid_credential_request');
    expect(await issuanceRows(offer.id)).toEqual([]);
    // Exactly batch_size is fine, with the same token and nonce.
    const response = await api.requestCredential(token, request10(...proofs.slice(0, 10)));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().credentials).toHaveLength(10);
  });

  it('follows the BATCH_SIZE setting', async () => {
    const small = await startTestIssuer({ env: { BATCH_SIZE: '2' } });
    try {
      const id = (await small.client.createConfiguration()).id;
      const { token } = await redeem([id], { name: 'Ada' }, small.client);
      const nonce = await small.client.nonce();
      const holders = await Promise.all([holderKey(), holderKey(), holderKey()]);
      const proofs = await Promise.all(holders.map((key) => proof(key, nonce)));
      const request = (jwts: string[]) => ({ credential_configuration_id: id, proofs: { jwt: jwts } });
      expectOAuthError(await small.client.requestCredential(token, request(proofs)), 'invalid_credential_request');
      const response = await small.client.requestCredential(token, request(proofs.slice(0, 2)));
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().credentials).toHaveLength(2);
    } finally {
      await small.close();
    }
  });

  it('accepts proofs anywhere in the iat window, with clock skew for the future', async () => {
    for (const iat of [now() - 250, now() + 30]) {
      const { token } = await redeem();
      const response = await api.requestCredential(token, request10(await proof(holder, await api.nonce(), { iat })));
      expect(response.statusCode, `iat ${iat - now()} s: ${response.body}`).toBe(200);
    }
  });
});

describe('request errors', () => {
  it('invalid_credential_request: malformed body, wrong types, empty object, neither configuration id nor format', async () => {
    const { token } = await redeem();
    const valid = await proof(holder, await api.nonce());
    const bodies: unknown[] = [
      '{"credential_configuration_id": ',
      'null',
      '[]',
      '"credential"',
      { credential_configuration_id: 42, proofs: { jwt: [valid] } },
      { credential_configuration_id: configurationId, proofs: { jwt: valid } },
      { credential_configuration_id: configurationId, proofs: { jwt: [42] } },
      { credential_configuration_id: configurationId, proofs: [valid] },
      { format: 7, vct: VCT, proof: { proof_type: 'jwt', jwt: valid } },
      {},
      { proofs: { jwt: [valid] } },
      { vct: VCT, proof: { proof_type: 'jwt', jwt: valid } },
    ];
    for (const body of bodies) {
      const response = await api.requestCredential(token, body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(400);
      expectOAuthError(response, 'invalid_credential_request');
    }
    // No body at all.
    expectOAuthError(await api.requestCredential(token), 'invalid_credential_request');
    // None of it used the token or the nonce.
    expect((await api.requestCredential(token, request10(valid))).statusCode).toBe(200);
  });

  it('unknown_credential_configuration for an unknown id; 403 insufficient_scope for one that exists but was not offered', async () => {
    const { token } = await redeem();
    const valid = await proof(holder, await api.nonce());
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const response = await api.requestCredential(token, { credential_configuration_id: id, proofs: { jwt: [valid] } });
      expectOAuthError(response, 'unknown_credential_configuration');
      expect(response.body).not.toContain(id);
    }
    const notOffered = await api.requestCredential(token, { credential_configuration_id: otherConfigurationId, proofs: { jwt: [valid] } });
    expectOAuthError(notOffered, 'insufficient_scope', 403);
    expect(notOffered.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope"$/);
    expect((await api.requestCredential(token, request10(valid))).statusCode).toBe(200);
  });

  it('unknown_credential_identifier: credential_identifier is not issued by this issuer', async () => {
    const { token } = await redeem();
    const valid = await proof(holder, await api.nonce());
    expectOAuthError(await api.requestCredential(token, { credential_identifier: 'identity-1', proofs: { jwt: [valid] } }), 'unknown_credential_identifier');
    expectOAuthError(await api.requestCredential(token, { credential_identifier: 'identity-1', proof: { proof_type: 'jwt', jwt: valid } }), 'unknown_credential_identifier');
  });

  it('invalid_proof for every broken key proof; none of them uses the nonce or the token', async () => {
    const { offer, token } = await redeem();
    const nonce = await api.nonce();
    const other = await holderKey();
    const publicKey = await importJWK(holder.publicJwk, 'ES256');
    const pem = await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0]);
    const privateJwk: JWK = await exportJWK(holder.privateKey);
    expect(privateJwk.d).toEqual(expect.any(String));

    const hs256Input = `${b64json({ alg: 'HS256', typ: PROOF_TYP, jwk: holder.publicJwk })}.${b64json(proofPayload(nonce))}`;
    const hs256 = `${hs256Input}.${createHmac('sha256', pem).update(hs256Input).digest('base64url')}`;

    const cases: [string, unknown][] = [
      ['proofs missing', { credential_configuration_id: configurationId }],
      ['proofs with an empty array', request10()],
      ['proofs without jwt', { credential_configuration_id: configurationId, proofs: {} }],
      ['proofs with another key besides jwt', { credential_configuration_id: configurationId, proofs: { jwt: [await proof(holder, nonce)], ldp_vp: [{}] } }],
      ['not a JWT', request10('not-a-jwt')],
      ['wrong typ', request10(await proof(holder, nonce, {}, { typ: 'JWT' }))],
      ['no typ', request10(await handmadeJws({ alg: 'ES256', jwk: holder.publicJwk }, proofPayload(nonce), holder))],
      ['alg none', request10(await handmadeJws({ alg: 'none', typ: PROOF_TYP, jwk: holder.publicJwk }, proofPayload(nonce)))],
      ['HS256 keyed with the public key', request10(hs256)],
      ['jwk header with the private d', request10(await proof(holder, nonce, {}, { jwk: privateJwk }))],
      ['no jwk header', request10(await handmadeJws({ alg: 'ES256', typ: PROOF_TYP }, proofPayload(nonce), holder))],
      ['kid instead of jwk', request10(await handmadeJws({ alg: 'ES256', typ: PROOF_TYP, kid: 'did:example:wallet#0' }, proofPayload(nonce), holder))],
      ['wrong aud', request10(await proof(holder, nonce, { aud: 'https://other.example.com' }))],
      ['aud with a trailing slash', request10(await proof(holder, nonce, { aud: `${PUBLIC_URL}/` }))],
      ['no aud', request10(await handmadeJws(proofHeader(holder), { iat: now(), nonce }, holder))],
      ['no iat', request10(await handmadeJws(proofHeader(holder), { aud: PUBLIC_URL, nonce }, holder))],
      ['iat too old', request10(await proof(holder, nonce, { iat: now() - 300 - 60 - 30 }))],
      ['iat in the future beyond the clock skew', request10(await proof(holder, nonce, { iat: now() + 60 + 60 }))],
      ['signed by another key than the jwk header', request10(await handmadeJws(proofHeader(holder), proofPayload(nonce), other))],
      ['signature of another payload', request10(`${(await proof(holder, nonce)).split('.').slice(0, 2).join('.')}.${(await proof(other, nonce)).split('.')[2]}`)],
      ['crit header', request10(await handmadeJws({ ...proofHeader(holder), crit: ['x-wallet'], 'x-wallet': true }, proofPayload(nonce), holder))],
      ['oversized proof', request10(await proof(holder, nonce, {}, { 'x-padding': 'a'.repeat(10_000) }))],
      ['one bad proof in a batch', request10(await proof(holder, nonce), await proof(other, nonce, { aud: 'https://other.example.com' }))],
    ];
    for (const [name, body] of cases) {
      const response = await api.requestCredential(token, body);
      expect(response.statusCode, `${name}: ${response.body}`).toBe(400);
      expect(response.json().error, `${name}: ${response.body}`).toBe('invalid_proof');
      expectOAuthError(response, 'invalid_proof');
      // 1.0 errors carry no c_nonce: 1.0 wallets ask the nonce endpoint.
      expect(response.json()).not.toHaveProperty('c_nonce');
    }

    // No partial write: nothing issued, the token still unused, and the same nonce still good, for a
    // proof made by hand exactly like the broken ones above.
    expect(await issuanceRows(offer.id)).toEqual([]);
    const { rows } = await issuer.database.pool.query('SELECT issued_configuration_ids FROM access_tokens WHERE offer_id = $1', [offer.id]);
    expect(rows).toEqual([{ issued_configuration_ids: [] }]);
    const response = await api.requestCredential(token, request10(await handmadeJws(proofHeader(holder), proofPayload(nonce), holder)));
    expect(response.statusCode, response.body).toBe(200);
    expect((await openCredential(response.json().credentials[0].credential)).payload.cnf).toEqual({ jwk: holder.publicJwk });
  });

  it('invalid_proof for a proof without a nonce; invalid_nonce for a forged, tampered or expired c_nonce', async () => {
    const { offer, token } = await redeem();
    const real = await api.nonce();
    const [expiry, random] = real.split('.');
    const forged = issueNonce(new SecretKeys('another-secret-0123456789-abcdefghijklmnopqrstuvwxyz'), 300).nonce;
    const tampered = `${Number(expiry) + 3600}.${random}.${real.split('.')[2]}`;
    const expired = issueNonce(issuer.secrets, 300, Date.now() - 600_000).nonce;
    const cases: [string, string][] = [
      ['missing', await proofJwt(holder, { aud: PUBLIC_URL })],
      ['not a nonce of this issuer', await proof(holder, 'some-nonce')],
      ['forged with another secret', await proof(holder, forged)],
      ['expiry tampered with', await proof(holder, tampered)],
      ['expired', await proof(holder, expired)],
    ];
    for (const [name, jwt] of cases) {
      const response = await api.requestCredential(token, request10(jwt));
      // §8.3.1.2: a proof without the nonce the issuer's nonce endpoint hands out is an invalid proof.
      const error = name === 'missing' ? 'invalid_proof' : 'invalid_nonce';
      expect(response.statusCode, `${name}: ${response.body}`).toBe(400);
      expect(response.json().error, `${name}: ${response.body}`).toBe(error);
      expectOAuthError(response, error);
    }
    expect(await issuanceRows(offer.id)).toEqual([]);
    // A nonce made the same way, but current, is accepted with the same token.
    const response = await api.requestCredential(token, request10(await proof(holder, issueNonce(issuer.secrets, 300).nonce)));
    expect(response.statusCode, response.body).toBe(200);
  });

  it('invalid_nonce: a c_nonce already used by an earlier successful request', async () => {
    const first = await redeem();
    const nonce = await api.nonce();
    expect((await api.requestCredential(first.token, request10(await proof(holder, nonce)))).statusCode).toBe(200);

    const second = await redeem();
    expectOAuthError(await api.requestCredential(second.token, request10(await proof(holder, nonce))), 'invalid_nonce');
    // Also when it hides in a batch next to a fresh one; the fresh one is then not consumed either.
    const fresh = await api.nonce();
    expectOAuthError(await api.requestCredential(second.token, request10(await proof(holder, fresh), await proof(await holderKey(), nonce))), 'invalid_nonce');
    expect(await issuanceRows(second.offer.id)).toEqual([]);
    expect((await api.requestCredential(second.token, request10(await proof(holder, fresh)))).statusCode).toBe(200);
  });

  it('credential_request_denied: a second request for the same configuration with the same token and other keys, consuming nothing', async () => {
    const { offer, token } = await redeem();
    expect((await api.requestCredential(token, request10(await proof(holder, await api.nonce())))).statusCode).toBe(200);
    const nonce = await api.nonce();
    const otherHolder = await holderKey();
    expectOAuthError(await api.requestCredential(token, request10(await proof(otherHolder, nonce))), 'credential_request_denied');
    expectOAuthError(await api.requestCredential(token, requestDraft13(await proof(otherHolder, nonce))), 'credential_request_denied');
    expectOAuthError(await api.requestCredential(token, request10(await proof(holder, nonce), await proof(otherHolder, nonce))), 'credential_request_denied');
    expect(await issuanceRows(offer.id)).toHaveLength(1);
    // The denied requests did not consume their nonce.
    const other = await redeem();
    expect((await api.requestCredential(other.token, request10(await proof(holder, nonce)))).statusCode).toBe(200);
  });

  it('one token issues each offered configuration once: another offered configuration is still available', async () => {
    const { token } = await redeem([configurationId, otherConfigurationId]);
    expect((await api.requestCredential(token, request10(await proof(holder, await api.nonce())))).statusCode).toBe(200);
    const other = await api.requestCredential(token, { credential_configuration_id: otherConfigurationId, proofs: { jwt: [await proof(holder, await api.nonce())] } });
    expect(other.statusCode, other.body).toBe(200);
    expect((await openCredential(other.json().credentials[0].credential)).payload.vct).toBe(OTHER_VCT);
    expectOAuthError(await api.requestCredential(token, request10(await proof(await holderKey(), await api.nonce()))), 'credential_request_denied');
  });

  it('a lost response: the same configuration, asked again with new proofs of the same keys, is issued again to those keys', async () => {
    const { offer, token } = await redeem();
    const keys = [holder, await holderKey()];
    const first = await api.requestCredential(token, request10(...(await Promise.all(keys.map(async (key) => proof(key, await api.nonce()))))));
    expect(first.statusCode, first.body).toBe(200);
    // The response never reached the wallet; it asks again, proving the same keys (in any order).
    const again = await api.requestCredential(token, request10(...(await Promise.all([...keys].reverse().map(async (key) => proof(key, await api.nonce()))))));
    expect(again.statusCode, again.body).toBe(200);
    const bound = await Promise.all(again.json().credentials.map(async ({ credential }: { credential: string }) => (await openCredential(credential)).payload.cnf));
    expect(bound).toEqual(expect.arrayContaining(keys.map((key) => ({ jwk: key.publicJwk }))));
    // Only those keys: a subset or another key is refused.
    expectOAuthError(await api.requestCredential(token, request10(await proof(holder, await api.nonce()))), 'credential_request_denied');
    expect(await issuanceRows(offer.id)).toHaveLength(4);
    const events = await issuer.tables.eventRows(`type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS' AND data->>'offerId' = $1`, [offer.id]);
    expect(events.map((event) => event.data.again ?? false)).toEqual([false, true]);
  });

  it('credential_request_denied, not a 500, when a required claim cannot be resolved at issuance; nothing consumed', async () => {
    const configuration = { type: 'https://credentials.example.com/changing', claimMappings: { name: { mapFrom: 'claims.name', required: true } } };
    const id = (await api.createConfiguration(configuration)).id;
    const { offer, token } = await redeem([id], { name: 'Ada' });
    const put = (body: Record<string, unknown>) =>
      api.put(`${CONFIGURATIONS}/${id}`, body);
    const stricter = await put({ ...configuration, claimMappings: { ...configuration.claimMappings, email: { mapFrom: 'claims.email', required: true } } });
    expect(stricter.statusCode, stricter.body).toBe(200);

    const nonce = await api.nonce();
    const body = { credential_configuration_id: id, proofs: { jwt: [await proof(holder, nonce)] } };
    expectOAuthError(await api.requestCredential(token, body), 'credential_request_denied');
    expect(await issuanceRows(offer.id)).toEqual([]);

    // Once the configuration no longer requires it, the same token and nonce work.
    expect((await put(configuration)).statusCode).toBe(200);
    const response = await api.requestCredential(token, body);
    expect(response.statusCode, response.body).toBe(200);
    expect((await openCredential(response.json().credentials[0].credential)).disclosures.map((d) => [d.name, d.value])).toEqual([['name', 'Ada']]);
  });
});

describe('draft 13 request', () => {
  it('issues a vc+sd-jwt credential with a fresh c_nonce, using the c_nonce from the token response', async () => {
    const { offer, token, cNonce } = await redeem();
    const response = await api.requestCredential(token, requestDraft13(await proof(holder, cNonce)));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toEqual({ credential: expect.any(String), c_nonce: expect.any(String), c_nonce_expires_in: 300, notification_id: expect.any(String) });
    const { payload, disclosures } = await openCredential(body.credential, 'vc+sd-jwt');
    expect(payload).toMatchObject({ iss: PUBLIC_URL, vct: VCT, cnf: { jwk: holder.publicJwk }, family_name: FAMILY_NAME, _sd_alg: 'sha-256' });
    expect(disclosures.find((d) => d.name === 'given_name')?.value).toBe(GIVEN_NAME);
    expect(await issuanceRows(offer.id)).toHaveLength(1);

    // The c_nonce of the answer is a real one: another wallet session can use it.
    expect(body.c_nonce).not.toBe(cNonce);
    const next = await redeem();
    const again = await api.requestCredential(next.token, requestDraft13(await proof(holder, body.c_nonce)));
    expect(again.statusCode, again.body).toBe(200);
  });

  it('accepts the dc+sd-jwt format identifier too, answering with that typ', async () => {
    const { token, cNonce } = await redeem();
    const response = await api.requestCredential(token, { ...requestDraft13(await proof(holder, cNonce)), format: 'dc+sd-jwt' });
    expect(response.statusCode, response.body).toBe(200);
    await openCredential(response.json().credential, 'dc+sd-jwt');
  });

  it('unsupported_credential_format for another format, unsupported_credential_type for a vct that was not offered', async () => {
    const { token, cNonce } = await redeem();
    const valid = await proof(holder, cNonce);
    for (const format of ['jwt_vc_json', 'ldp_vc', 'vc+sd-jwt+x']) {
      expectOAuthError(await api.requestCredential(token, { ...requestDraft13(valid), format }), 'unsupported_credential_format');
    }
    // mso_mdoc is a format this issuer speaks, but no mDoc was offered with this token.
    expectOAuthError(await api.requestCredential(token, { format: 'mso_mdoc', doctype: 'org.iso.18013.5.1.mDL', proof: { proof_type: 'jwt', jwt: valid } }), 'unsupported_credential_type');
    for (const vct of ['https://credentials.example.com/unknown', OTHER_VCT]) {
      expectOAuthError(await api.requestCredential(token, requestDraft13(valid, vct)), 'unsupported_credential_type');
    }
    const { vct: _vct, ...withoutVct } = requestDraft13(valid);
    expectOAuthError(await api.requestCredential(token, withoutVct), 'unsupported_credential_type');
    expect((await api.requestCredential(token, requestDraft13(valid))).statusCode).toBe(200);
  });

  it('answers invalid_proof with a fresh c_nonce that the wallet can retry with', async () => {
    const { offer, token, cNonce } = await redeem();
    const failed = await api.requestCredential(token, requestDraft13(await proof(holder, cNonce, { aud: 'https://other.example.com' })));
    expectOAuthError(failed, 'invalid_proof');
    const body = failed.json();
    expect(body).toEqual({ error: 'invalid_proof', error_description: expect.any(String), c_nonce: expect.any(String), c_nonce_expires_in: 300 });
    expect(body.c_nonce).not.toBe(cNonce);
    expect(await issuanceRows(offer.id)).toEqual([]);

    const retried = await api.requestCredential(token, requestDraft13(await proof(holder, body.c_nonce)));
    expect(retried.statusCode, retried.body).toBe(200);
  });

  it('invalid_proof for a missing or non-jwt proof and for a bad nonce (draft 13 has no invalid_nonce), each with a fresh c_nonce', async () => {
    const { token, cNonce } = await redeem();
    const valid = await proof(holder, cNonce);
    const cases: [string, unknown][] = [
      ['invalid_proof', { format: 'vc+sd-jwt', vct: VCT }],
      ['invalid_proof', { format: 'vc+sd-jwt', vct: VCT, proof: { proof_type: 'cwt', cwt: 'x' } }],
      ['invalid_proof', { format: 'vc+sd-jwt', vct: VCT, proof: { proof_type: 'jwt' } }],
      ['invalid_proof', requestDraft13(await proof(holder, 'made-up'))],
    ];
    for (const [error, request] of cases) {
      const response = await api.requestCredential(token, request);
      expectOAuthError(response, error);
      expect(response.json(), JSON.stringify(request)).toMatchObject({ c_nonce: expect.any(String), c_nonce_expires_in: 300 });
    }
    expect((await api.requestCredential(token, requestDraft13(valid))).statusCode).toBe(200);
  });
});

describe('records', () => {
  it('stores one row per credential without claim values, and START/SUCCESS events without claim values', async () => {
    const { offer, token } = await redeem();
    const holders = [holder, await holderKey()];
    const nonce = await api.nonce();
    const requestId = `credential-test-${randomUUID()}`;
    const response = await api.requestCredential(token, request10(...(await Promise.all(holders.map((key) => proof(key, nonce))))), { 'x-request-id': requestId });
    expect(response.statusCode, response.body).toBe(200);
    const credentials = (response.json().credentials as { credential: string }[]).map((c) => c.credential);
    const opened = await Promise.all(credentials.map((credential) => openCredential(credential)));

    const rows = await issuanceRows(offer.id);
    expect(rows).toHaveLength(2);
    const { rows: tokens } = await issuer.database.pool.query('SELECT id FROM access_tokens WHERE offer_id = $1', [offer.id]);
    const thumbprints = await Promise.all(holders.map((key) => calculateJwkThumbprint(key.publicJwk)));
    for (const row of rows) {
      const index = thumbprints.indexOf(row.holder_key_thumbprint);
      expect(index, 'holder_key_thumbprint is the RFC 7638 thumbprint of a proof key').toBeGreaterThanOrEqual(0);
      expect(row).toMatchObject({
        offer_id: offer.id,
        access_token_id: tokens[0].id,
        configuration_id: configurationId,
        user_id: offer.userId,
        credential_hash: sha256(credentials[index]!),
        issuer_kid: opened[index]!.header.kid,
        issued_at: expect.any(Date),
      });
      expect(Math.floor(row.expires_at.getTime() / 1000)).toBe(opened[index]!.payload.exp);
    }
    expect(new Set(rows.map((row) => row.id)).size).toBe(2);
    for (const value of [GIVEN_NAME, FAMILY_NAME]) expect(JSON.stringify(rows)).not.toContain(value);

    const events = await eventsOf(requestId);
    expect(events.map((event) => event.type)).toEqual(['OPENID_CREDENTIAL_ISSUE_START', 'OPENID_CREDENTIAL_ISSUE_SUCCESS']);
    expect(events.every((event) => event.category === 'OpenId')).toBe(true);
    expect(events[1]!.data).toMatchObject({ offerId: offer.id, credentialConfigurationId: configurationId });
    for (const value of [GIVEN_NAME, FAMILY_NAME, token, nonce]) expect(JSON.stringify(events)).not.toContain(value);
    // No credential event anywhere holds a claim value.
    const { rows: all } = await issuer.database.pool.query("SELECT data FROM events WHERE type LIKE 'OPENID_CREDENTIAL_%'");
    for (const value of [GIVEN_NAME, FAMILY_NAME]) expect(JSON.stringify(all)).not.toContain(value);
  });

  it('records OPENID_CREDENTIAL_ISSUE_FAIL for a failed request, and no SUCCESS', async () => {
    const { offer, token } = await redeem();
    const requestId = `credential-test-${randomUUID()}`;
    const response = await api.requestCredential(token, request10(await proof(holder, await api.nonce(), { aud: 'https://other.example.com' })), { 'x-request-id': requestId });
    expectOAuthError(response, 'invalid_proof');
    const events = await eventsOf(requestId);
    expect(events.map((event) => event.type)).toEqual(['OPENID_CREDENTIAL_ISSUE_START', 'OPENID_CREDENTIAL_ISSUE_FAIL']);
    expect(events[1]!.data).toMatchObject({ error: 'invalid_proof' });
    expect(await issuanceRows(offer.id)).toEqual([]);

    const deniedId = `credential-test-${randomUUID()}`;
    const other = await redeem();
    expect((await api.requestCredential(other.token, request10(await proof(holder, await api.nonce())))).statusCode).toBe(200);
    expectOAuthError(await api.requestCredential(other.token, request10(await proof(await holderKey(), await api.nonce())), { 'x-request-id': deniedId }), 'credential_request_denied');
    expect((await eventsOf(deniedId)).map((event) => [event.type, event.data.error ?? null])).toEqual([
      ['OPENID_CREDENTIAL_ISSUE_START', null],
      ['OPENID_CREDENTIAL_ISSUE_FAIL', 'credential_request_denied'],
    ]);
  });
});

describe('concurrency', () => {
  it('two concurrent requests for the same configuration with the same token and different keys: exactly one credential', async () => {
    for (let round = 0; round < 5; round++) {
      const { offer, token } = await redeem();
      const [first, second] = [await api.nonce(), await api.nonce()];
      const keys = [holder, await holderKey()];
      const responses = await Promise.all([first, second].map(async (nonce, index) => api.requestCredential(token, request10(await proof(keys[index]!, nonce)))));
      const statuses = responses.map((r) => r.statusCode).sort();
      expect(statuses, responses.map((r) => r.body).join('\n')).toEqual([200, 400]);
      const loser = responses.find((r) => r.statusCode === 400)!;
      expect(['credential_request_denied', 'invalid_nonce']).toContain(loser.json().error);
      expect(await issuanceRows(offer.id)).toHaveLength(1);
      const { rows } = await issuer.database.pool.query(
        "SELECT count(*)::int AS count FROM events WHERE type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS' AND data->>'offerId' = $1",
        [offer.id],
      );
      expect(rows[0].count).toBe(1);
    }
  });

  it('two concurrent requests with the same c_nonce and different tokens: the nonce is used once', async () => {
    for (let round = 0; round < 5; round++) {
      const sessions = [await redeem(), await redeem()];
      const nonce = await api.nonce();
      const responses = await Promise.all(sessions.map(async ({ token }) => api.requestCredential(token, request10(await proof(holder, nonce)))));
      expect(responses.map((r) => r.statusCode).sort(), responses.map((r) => r.body).join('\n')).toEqual([200, 400]);
      expect(responses.find((r) => r.statusCode === 400)!.json().error).toBe('invalid_nonce');
    }
  });
});
