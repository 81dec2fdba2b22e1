import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROOF_TYP } from '../src/protocol.js';
import { DOCUMENT_SIGNERS, IACAS, MDOC_CONFIGURATIONS, credentialRequest, draft13MdocRequest, type HttpResponse, type IssuerClient } from './support/client.js';
import { stateFingerprint } from './support/hostile.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { BADGE_CLAIMS, BADGE_CONFIGURATION, Cbor2Tag, MDL_CLAIMS, MDL_CONFIGURATION, MDL_DOCTYPE, MDL_NAMESPACE, handCheck, verifyIssuerSignedWithOwf } from './support/mdoc.js';
import { OfflineIaca } from './support/offline-iaca.js';
import { holderKey, proofJwt, type HolderKey } from './support/wallet.js';

// The credential endpoint for mDocs, through Fastify's whole HTTP stack and a real PostgreSQL: batches,
// records, draft 13, the document signer the service chooses or issues, and every refusal — each
// one a clean error that writes nothing.

const PUBLIC_URL = 'https://issuer.example.com';
let issuer: TestIssuer;
let api: IssuerClient;
let mdl: string;
let badge: string;
/** The managed IACA most tests sign under. */
let iaca: { id: string; certificatePem: string };

beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL });
  api = issuer.client;
  mdl = (await api.createMdocConfiguration(MDL_CONFIGURATION)).id;
  badge = (await api.createMdocConfiguration(BADGE_CONFIGURATION)).id;
  iaca = await api.createIaca();
});
afterAll(() => issuer.close());

/** Only `id` is active. */
async function onlyActive(id?: string) {
  const { rows } = await issuer.database.pool.query<{ id: string }>('SELECT id FROM iacas WHERE active');
  for (const row of rows) if (row.id !== id) expect((await api.put(`${IACAS}/${row.id}`, { active: false })).statusCode).toBe(200);
  if (id) expect((await api.put(`${IACAS}/${id}`, { active: true })).statusCode).toBe(200);
}
beforeEach(() => onlyActive(iaca.id));

const proof = (holder: HolderKey, nonce: string) => proofJwt(holder, { aud: PUBLIC_URL, nonce });
const redeem = (configurationIds: string[], claims: Record<string, unknown>) => api.startSession({ credentials: configurationIds, claims });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectOAuthError(response: HttpResponse, error: string, description?: RegExp) {
  expect(response.statusCode, response.body).toBe(400);
  expect(response.json()).toMatchObject({ error, error_description: expect.any(String) });
  if (description) expect(response.json().error_description).toMatch(description);
  expect(response.headers['cache-control']).toBe('no-store');
}

/** A request refused with `error`, after which every table but the event log is as it was. */
async function expectRefusedWritingNothing(send: () => Promise<HttpResponse>, error: string, description?: RegExp) {
  const before = await stateFingerprint(issuer);
  expectOAuthError(await send(), error, description);
  expect(await stateFingerprint(issuer)).toEqual(before);
}

/** A session on the mDL offer, with a proof ready: the request a refusal test sends, and sends again once the cause is gone. */
async function mdlRequest(claims: Record<string, unknown> = MDL_CLAIMS) {
  const { token } = await redeem([mdl], claims);
  const body = credentialRequest(mdl, [await proof(await holderKey(), await api.nonce())]);
  return { send: () => api.requestCredential(token, body) };
}

const credentialsOf = (response: HttpResponse) => {
  expect(response.statusCode, response.body).toBe(200);
  return (response.json().credentials as { credential: string }[]).map(({ credential }) => credential);
};

/** The document signer in an mDoc's x5chain. */
async function signerOf(credential: string) {
  const { documentSigner, mso } = await handCheck(Buffer.from(credential, 'base64url'));
  return { certificate: documentSigner, mso };
}

describe('issuing mDocs', () => {
  it('a batch: one mDoc per proof, each bound to its own key, all accepted by @owf/mdoc trusting the IACA', async () => {
    const { offer, token } = await redeem([mdl], MDL_CLAIMS);
    const holders = await Promise.all([holderKey(), holderKey(), holderKey()]);
    const nonce = await api.nonce();
    const credentials = credentialsOf(await api.requestCredential(token, credentialRequest(mdl, await Promise.all(holders.map((key) => proof(key, nonce))))));
    expect(credentials).toHaveLength(3);
    const iacaPem = (await api.get(`${IACAS}/${iaca.id}/certificate`, null)).body;
    for (const [index, credential] of credentials.entries()) {
      expect((await verifyIssuerSignedWithOwf(credential, iacaPem)).failed).toEqual([]);
      const { deviceKey, problems } = await handCheck(Buffer.from(credential, 'base64url'));
      expect(problems).toEqual([]);
      expect(Buffer.from(deviceKey.get(-2) as Uint8Array).toString('base64url')).toBe(holders[index]!.publicJwk.x);
    }
    const thumbprints = await Promise.all(holders.map((key) => calculateJwkThumbprint(key.publicJwk)));
    const { rows } = await issuer.database.pool.query('SELECT holder_key_thumbprint FROM credential_issuances WHERE offer_id = $1', [offer.id]);
    expect(rows.map((row) => row.holder_key_thumbprint).sort()).toEqual([...thumbprints].sort());
  });

  it('records each mDoc like an SD-JWT (no claim values), its signer as mdoc-ds:<id>, its validUntil as expiry, and the format in the event', async () => {
    const { offer, token } = await redeem([mdl], MDL_CLAIMS);
    const requestId = `mdoc-${randomUUID()}`;
    const [credential] = credentialsOf(await api.requestCredential(token, credentialRequest(mdl, [await proof(await holderKey(), await api.nonce())]), { 'x-request-id': requestId }));
    const { certificate, mso } = await signerOf(credential!);
    const signers = (await api.get(`${DOCUMENT_SIGNERS}?iacaId=${iaca.id}`)).json().data as { id: string; certificatePem: string }[];
    const signer = signers.find((candidate) => new X509Certificate(candidate.certificatePem).fingerprint256 === certificate.fingerprint256)!;
    expect(signer).toBeDefined();

    const { rows } = await issuer.database.pool.query('SELECT * FROM credential_issuances WHERE offer_id = $1', [offer.id]);
    expect(rows).toHaveLength(1);
    const validUntil = (mso.get('validityInfo') as Map<string, InstanceType<typeof Cbor2Tag>>).get('validUntil')!.contents;
    expect(rows[0]).toMatchObject({ configuration_id: mdl, issuer_kid: `mdoc-ds:${signer.id}`, expires_at: new Date(String(validUntil)) });
    const events = await issuer.tables.eventRows('request_id = $1', [requestId]);
    expect(events.map((event) => event.type)).toEqual(['OPENID_CREDENTIAL_ISSUE_START', 'OPENID_CREDENTIAL_ISSUE_SUCCESS']);
    expect(events[1]!.data).toMatchObject({ credentialConfigurationId: mdl, format: 'mso_mdoc' });
    for (const value of [MDL_CLAIMS.familyName, MDL_CLAIMS.documentNumber, MDL_CLAIMS.portrait.slice(0, 20)]) {
      expect(JSON.stringify(rows)).not.toContain(value);
      expect(JSON.stringify(events)).not.toContain(value);
    }
  });

  it('an offer may mix mDoc and SD-JWT configurations: one token issues each', async () => {
    const sdJwt = (await api.createConfiguration()).id;
    const { token } = await redeem([mdl, sdJwt], { ...MDL_CLAIMS, name: 'Jane' });
    const [mdoc] = credentialsOf(await api.requestCredential(token, credentialRequest(mdl, [await proof(await holderKey(), await api.nonce())])));
    expect((await handCheck(Buffer.from(mdoc!, 'base64url'))).problems).toEqual([]);
    const [sdJwtVc] = credentialsOf(await api.requestCredential(token, credentialRequest(sdJwt, [await proof(await holderKey(), await api.nonce())])));
    expect(sdJwtVc!.split('~').length).toBeGreaterThan(1);
    expectOAuthError(await api.requestCredential(token, credentialRequest(mdl, [await proof(await holderKey(), await api.nonce())])), 'credential_request_denied');
  });

  it('draft 13: format mso_mdoc and the doctype, one proof; another doctype is unsupported_credential_type', async () => {
    const { token, cNonce } = await redeem([mdl], MDL_CLAIMS);
    const holder = await holderKey();
    expectOAuthError(await api.requestCredential(token, draft13MdocRequest('org.iso.18013.5.1.mDLx', await proof(holder, cNonce))), 'unsupported_credential_type');
    expectOAuthError(await api.requestCredential(token, { format: 'mso_mdoc', vct: MDL_DOCTYPE, proof: { proof_type: 'jwt', jwt: await proof(holder, cNonce) } }), 'unsupported_credential_type');
    const response = await api.requestCredential(token, draft13MdocRequest(MDL_DOCTYPE, await proof(holder, cNonce)));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ credential: expect.stringMatching(/^[A-Za-z0-9_-]+$/), c_nonce: expect.any(String), c_nonce_expires_in: expect.any(Number), notification_id: expect.any(String) });
    expect((await handCheck(Buffer.from(response.json().credential, 'base64url'))).mso.get('docType')).toBe(MDL_DOCTYPE);
  });

  it('a configured validFrom later than now starts the mDoc then', async () => {
    const validFrom = new Date(Date.now() + 7 * 86_400_000);
    validFrom.setUTCMilliseconds(0);
    const id = (await api.createMdocConfiguration({ ...BADGE_CONFIGURATION, type: `com.example.later.${randomUUID()}`, validFrom: validFrom.toISOString(), expiresIn: { days: 30 } })).id;
    const { token } = await redeem([id], BADGE_CLAIMS);
    const [credential] = credentialsOf(await api.requestCredential(token, credentialRequest(id, [await proof(await holderKey(), await api.nonce())])));
    const info = (await signerOf(credential!)).mso.get('validityInfo') as Map<string, InstanceType<typeof Cbor2Tag>>;
    expect(info.get('validFrom')!.contents).toBe(validFrom.toISOString().replace('.000', ''));
    expect(new Date(String(info.get('validUntil')!.contents)).getTime() - validFrom.getTime()).toBe(30 * 86_400_000);
    expect(new Date(String(info.get('signed')!.contents)).getTime()).toBeLessThan(validFrom.getTime());
  });
});

describe('the document signer', () => {
  it('a managed IACA without one issues one at the first mDoc, once, recorded as an automatic MOBILE_CREDENTIAL_DOCUMENT_SIGNER_CREATE', async () => {
    const fresh = await api.createIaca();
    await onlyActive(fresh.id);
    const requestId = `mdoc-${randomUUID()}`;
    const first = credentialsOf(await (async () => {
      const { token } = await redeem([badge], BADGE_CLAIMS);
      return api.requestCredential(token, credentialRequest(badge, [await proof(await holderKey(), await api.nonce())]), { 'x-request-id': requestId });
    })());
    const signers = (await api.get(`${DOCUMENT_SIGNERS}?iacaId=${fresh.id}`)).json().data as { id: string; certificatePem: string }[];
    expect(signers).toHaveLength(1);
    expect((await signerOf(first[0]!)).certificate.fingerprint256).toBe(new X509Certificate(signers[0]!.certificatePem).fingerprint256);
    const events = await issuer.tables.eventRows('request_id = $1', [requestId]);
    expect(events.map((event) => [event.type, event.actor])).toEqual([
      ['MOBILE_CREDENTIAL_DOCUMENT_SIGNER_CREATE_START', null],
      ['MOBILE_CREDENTIAL_DOCUMENT_SIGNER_CREATE_SUCCESS', null],
      ['OPENID_CREDENTIAL_ISSUE_START', null],
      ['OPENID_CREDENTIAL_ISSUE_SUCCESS', null],
    ]);
    expect(events[1]!.data).toMatchObject({ documentSignerId: signers[0]!.id, iacaId: fresh.id, automatic: true });

    const { token } = await redeem([badge], BADGE_CLAIMS);
    credentialsOf(await api.requestCredential(token, credentialRequest(badge, [await proof(await holderKey(), await api.nonce())])));
    expect((await api.get(`${DOCUMENT_SIGNERS}?iacaId=${fresh.id}`)).json().data).toHaveLength(1);
  });

  it('a revoked signer of a managed IACA is replaced at the next mDoc; the old one is on the CRL', async () => {
    const request = async () => {
      const { token } = await redeem([badge], BADGE_CLAIMS);
      return credentialsOf(await api.requestCredential(token, credentialRequest(badge, [await proof(await holderKey(), await api.nonce())])))[0]!;
    };
    const before = (await signerOf(await request())).certificate;
    const signers = (await api.get(`${DOCUMENT_SIGNERS}?iacaId=${iaca.id}`)).json().data as { id: string; certificatePem: string; revoked: boolean }[];
    const current = signers.find((signer) => new X509Certificate(signer.certificatePem).fingerprint256 === before.fingerprint256)!;
    expect((await api.post(`${DOCUMENT_SIGNERS}/${current.id}/revoke`)).statusCode).toBe(200);
    const after = (await signerOf(await request())).certificate;
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    expect(after.checkIssued(new X509Certificate(iaca.certificatePem))).toBe(true);
  });
});

describe('refusals: a clean error, nothing written', () => {
  it('no active IACA: credential_request_denied; once one is activated the same token, nonce and proof work', async () => {
    const request = await mdlRequest();
    await onlyActive(undefined);
    await expectRefusedWritingNothing(request.send, 'credential_request_denied', /No IACA is active/);
    await onlyActive(iaca.id);
    credentialsOf(await request.send());
  });

  it('an expired IACA: credential_request_denied', async () => {
    const shortLived = await api.createIaca({ country: 'US', stateOrProvinceName: 'US-CA', notAfter: new Date(Date.now() + 4000).toISOString() });
    await onlyActive(shortLived.id);
    const early = await mdlRequest();
    const [credential] = credentialsOf(await early.send());
    // Its mDoc ends with the IACA.
    const validUntil = ((await signerOf(credential!)).mso.get('validityInfo') as Map<string, InstanceType<typeof Cbor2Tag>>).get('validUntil')!.contents;
    expect(new Date(String(validUntil)).getTime()).toBeLessThanOrEqual(new Date(shortLived.certificateData.notAfter).getTime());
    const late = await mdlRequest();
    await sleep(Math.max(0, new Date(shortLived.certificateData.notAfter).getTime() - Date.now() + 500));
    await expectRefusedWritingNothing(late.send, 'credential_request_denied', /No active IACA is valid now/);
  });

  it('a document signer past its validity (unmanaged IACA): credential_request_denied; so is a revoked one', async () => {
    const offline = await OfflineIaca.create({ country: 'US', state: 'US-CA' });
    const unmanaged = (await api.post(IACAS, { certificatePem: offline.certificatePem })).json();
    await onlyActive(unmanaged.id);
    const pending = (await api.post(DOCUMENT_SIGNERS, { iacaId: unmanaged.id })).json();
    const notAfter = new Date(Date.now() + 4000);
    const certificatePem = await offline.sign(pending.csrPem, { notAfter });
    expect((await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { certificatePem, active: true })).statusCode).toBe(200);

    const early = await mdlRequest();
    const [credential] = credentialsOf(await early.send());
    expect((await verifyIssuerSignedWithOwf(credential!, offline.certificatePem)).failed).toEqual([]);
    const late = await mdlRequest();
    await sleep(Math.max(0, notAfter.getTime() - Date.now() + 500));
    await expectRefusedWritingNothing(late.send, 'credential_request_denied', /No document signer of an active IACA has a certificate valid now/);

    const second = (await api.post(DOCUMENT_SIGNERS, { iacaId: unmanaged.id })).json();
    expect((await api.put(`${DOCUMENT_SIGNERS}/${second.id}`, { certificatePem: await offline.sign(second.csrPem), active: true })).statusCode).toBe(200);
    credentialsOf(await late.send());
    expect((await api.post(`${DOCUMENT_SIGNERS}/${second.id}/revoke`)).statusCode).toBe(200);
    await expectRefusedWritingNothing((await mdlRequest()).send, 'credential_request_denied', /No document signer/);
  });

  it('claims of the wrong type: the offer is a 400 naming each claim; at issuance (the mapping changed since) credential_request_denied', async () => {
    const count = await issuer.tables.count('offers');
    const response = await api.post('/v1/openid/offers/pre-authorized', {
      credentials: [mdl],
      claims: { ...MDL_CLAIMS, birthDate: '12/04/1990', height: 170.5, portrait: 'not base64!' },
    });
    expect(response.statusCode, response.body).toBe(400);
    const details = response.json().details as { param: string; msg: string }[];
    expect(details.map((detail) => detail.param).sort()).toEqual(['claims.birthDate', 'claims.height', 'claims.portrait']);
    expect(details.find((detail) => detail.param === 'claims.birthDate')!.msg).toBe(
      `must be a full-date "YYYY-MM-DD" for claim "${MDL_NAMESPACE}/birth_date" (type date) (credential configuration ${mdl})`,
    );
    expect(response.body).not.toContain('12/04/1990');
    expect(await issuer.tables.count('offers')).toBe(count);

    const id = (await api.createMdocConfiguration({ type: `com.example.typed.${randomUUID()}`, claimMappings: { ns: { level: { mapFrom: 'claims.level', type: 'string' } } } })).id;
    const { token } = await redeem([id], { level: 'gold' });
    const body = credentialRequest(id, [await proof(await holderKey(), await api.nonce())]);
    const configuration = (await api.get(`${MDOC_CONFIGURATIONS}/${id}`)).json();
    const retype = (type: string) => api.put(`${MDOC_CONFIGURATIONS}/${id}`, { type: configuration.type, claimMappings: { ns: { level: { mapFrom: 'claims.level', type } } } });
    expect((await retype('number')).statusCode).toBe(200);
    await expectRefusedWritingNothing(() => api.requestCredential(token, body), 'credential_request_denied', /claims\.level must be a whole number .* for claim 'ns\/level'/);
    expect((await retype('string')).statusCode).toBe(200);
    credentialsOf(await api.requestCredential(token, body));
  });

  it("an mDL whose issuing_country is not the document signer's country: credential_request_denied", async () => {
    await expectRefusedWritingNothing((await mdlRequest({ ...MDL_CLAIMS, issuingCountry: 'NL' })).send, 'credential_request_denied', /issuing_country must be US/);
  });

  it('a proof key that is not P-256: invalid_proof', async () => {
    const { token } = await redeem([mdl], MDL_CLAIMS);
    const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
    const jwt = await new SignJWT({ aud: PUBLIC_URL, nonce: await api.nonce() })
      .setProtectedHeader({ alg: 'ES384', typ: PROOF_TYP, jwk: await exportJWK(publicKey) })
      .setIssuedAt()
      .sign(privateKey);
    await expectRefusedWritingNothing(() => api.requestCredential(token, credentialRequest(mdl, [jwt])), 'invalid_proof');
  });

  it('more proofs than the batch size: invalid_credential_request', async () => {
    const { token } = await redeem([mdl], MDL_CLAIMS);
    const nonce = await api.nonce();
    const proofs = await Promise.all(Array.from({ length: 11 }, async () => proof(await holderKey(), nonce)));
    await expectRefusedWritingNothing(() => api.requestCredential(token, credentialRequest(mdl, proofs)), 'invalid_credential_request', /At most 10 proofs/);
    expect(credentialsOf(await api.requestCredential(token, credentialRequest(mdl, proofs.slice(0, 10))))).toHaveLength(10);
  });
});
