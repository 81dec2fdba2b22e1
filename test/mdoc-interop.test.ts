import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { clientAuthenticationNone } from '@animo-id/oauth2';
import { Oid4vciClient, setGlobalConfig as setAnimoGlobalConfig } from '@animo-id/oid4vci';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IACAS } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import {
  BADGE_CLAIMS,
  BADGE_CONFIGURATION,
  BADGE_DOCTYPE,
  Cbor2Tag,
  MDL_CLAIMS,
  MDL_CONFIGURATION,
  MDL_DOCTYPE,
  MDL_NAMESPACE,
  PORTRAIT,
  deviceResponse,
  handCheck,
  isFullDateTag,
  verifyDeviceResponseWithOwf,
  verifyIssuerSignedWithOwf,
  verifyWithAuth0,
} from './support/mdoc.js';
import { holderKey, walletClient, type HolderKey } from './support/wallet.js';

setAnimoGlobalConfig({ allowInsecureUrls: true });

// mDocs through the real wallet flow — OpenID4VCI 1.0 (@openid4vc/openid4vci) and draft 13
// (@animo-id/oid4vci) — each accepted by two verifiers (@auth0/mdl and @owf/mdoc) that trust
// nothing but the IACA certificate fetched from the service's public endpoint, and checked by hand
// with a third CBOR library. One issuer without a path in PUBLIC_URL (one metadata document for
// both dialects), one with a path (a document per dialect).

interface Setup {
  issuer: TestIssuer;
  iacaId: string;
  /** The IACA certificate as a verifier gets it: over HTTP, no API key. */
  iacaPem: string;
  mdl: string;
  badge: string;
}

async function setUp(publicPath?: string): Promise<Setup> {
  const issuer = await startTestIssuer({ listen: true, publicPath });
  const iaca = await issuer.client.activeIaca();
  const response = await fetch(`${issuer.url}${IACAS}/${iaca.id}/certificate`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/x-pem-file');
  return {
    issuer,
    iacaId: iaca.id,
    iacaPem: await response.text(),
    mdl: (await issuer.client.createMdocConfiguration(MDL_CONFIGURATION)).id,
    badge: (await issuer.client.createMdocConfiguration(BADGE_CONFIGURATION)).id,
  };
}

let plain: Setup;
let tenant: Setup;
beforeAll(async () => {
  [plain, tenant] = await Promise.all([setUp(), setUp('/tenants/acme')]);
});
afterAll(async () => {
  await plain?.issuer.close();
  await tenant?.issuer.close();
});

/** OpenID4VCI 1.0: offer, metadata, token, nonce, proof, credential; the credential and the metadata entry. */
async function issueWith10(setup: Setup, configurationId: string, claims: Record<string, unknown>, holder: HolderKey) {
  const offer = await setup.issuer.client.createOffer({ credentials: [configurationId], claims, transactionCodeConfiguration: {} });
  const client = walletClient(holder);
  const credentialOffer = await client.resolveCredentialOffer(offer.uri);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: String(offer.transactionCode) });
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk as never },
    nonce: c_nonce,
  });
  const result = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId, proofs: { jwt: [jwt] } });
  const credentials = (result.credentialResponse as { credentials: { credential: string }[] }).credentials;
  expect(credentials).toHaveLength(1);
  return { credential: credentials[0]!.credential, entry: issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId] as Record<string, unknown> };
}

function draft13Wallet(holder: HolderKey) {
  return new Oid4vciClient({
    callbacks: {
      hash: (data: Uint8Array, alg: string) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (bytes: number) => new Uint8Array(randomBytes(bytes)),
      clientAuthentication: clientAuthenticationNone(),
      signJwt: async (_signer: unknown, { header, payload }: { header: object; payload: object }) => new SignJWT(payload as never).setProtectedHeader(header as never).sign(holder.privateKey),
      verifyJwt: async () => ({ verified: false }),
      fetch,
    } as never,
  });
}

/** Draft 13: the c_nonce of the token response, `format` + `doctype` + one `proof`, the credential with a fresh c_nonce. */
async function issueWithDraft13(setup: Setup, configurationId: string, claims: Record<string, unknown>, holder: HolderKey) {
  const offer = await setup.issuer.client.createOffer({ credentials: [configurationId], claims });
  const client = draft13Wallet(holder);
  const credentialOffer = await client.resolveCredentialOffer(offer.uri);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk as never },
    nonce: accessTokenResponse.c_nonce as string,
  });
  const result = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId, proof: { proof_type: 'jwt', jwt } });
  const response = result.credentialResponse as { credential: string; c_nonce: string; c_nonce_expires_in: number };
  expect(response).toEqual({ credential: expect.any(String), c_nonce: expect.any(String), c_nonce_expires_in: expect.any(Number), notification_id: expect.any(String) });
  return { credential: response.credential, entry: issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId] as Record<string, unknown> };
}

/**
 * Both verifiers, trusting only the IACA: @owf/mdoc on the credential as issued, and on a
 * DeviceResponse the holder signs; @auth0/mdl on the same DeviceResponse. Then the hand check.
 */
async function verifyEverywhere(setup: Setup, credential: string, docType: string, holder: HolderKey) {
  expect(credential).toMatch(/^[A-Za-z0-9_-]+$/);
  const issuerSigned = Buffer.from(credential, 'base64url');
  const owfIssuerSigned = await verifyIssuerSignedWithOwf(credential, setup.iacaPem);
  expect(owfIssuerSigned.failed, '@owf/mdoc Holder.verifyIssuerSigned').toEqual([]);
  expect(owfIssuerSigned.passed).toBeGreaterThan(3);

  const presented = deviceResponse({ docType, issuerSigned, holder });
  const auth0 = await verifyWithAuth0(presented, setup.iacaPem);
  expect(auth0.failed, '@auth0/mdl Verifier').toEqual([]);
  expect(auth0.ok).toBe(true);
  expect(auth0.passed).toBeGreaterThan(10);
  const owf = await verifyDeviceResponseWithOwf(presented, setup.iacaPem);
  expect(owf.failed, '@owf/mdoc Verifier.verifyDeviceResponse').toEqual([]);
  expect(owf.passed).toBeGreaterThan(3);

  const checked = await handCheck(issuerSigned);
  expect(checked.problems).toEqual([]);
  // The device key is the proof's key; the signer is issued by the IACA the verifier trusts.
  expect(Buffer.from(checked.deviceKey.get(-2) as Uint8Array).toString('base64url')).toBe(holder.publicJwk.x);
  expect(Buffer.from(checked.deviceKey.get(-3) as Uint8Array).toString('base64url')).toBe(holder.publicJwk.y);
  expect([...checked.deviceKey.keys()]).toEqual([1, -1, -2, -3]);
  expect(checked.documentSigner.checkIssued(new X509Certificate(setup.iacaPem))).toBe(true);
  expect(checked.mso.get('docType')).toBe(docType);
  return { auth0, checked };
}

/** Digest ids are drawn at random: neither counting up nor starting from zero. */
function expectUnpredictable(ids: number[]) {
  expect(ids.length).toBeGreaterThan(5);
  const sorted = [...ids].sort((a, b) => a - b);
  expect(sorted.every((id, index) => index === 0 || id !== sorted[index - 1]! + 1)).toBe(true);
  expect(Math.max(...ids)).toBeGreaterThan(2 ** 20);
}

function expectMdl(checked: Awaited<ReturnType<typeof handCheck>>, auth0: Awaited<ReturnType<typeof verifyWithAuth0>>) {
  const elements = checked.elements.get(MDL_NAMESPACE)!;
  expect([...elements.keys()].sort()).toEqual(Object.keys(MDL_CONFIGURATION.claimMappings[MDL_NAMESPACE]).sort());
  expect(elements.get('family_name')).toBe('Doe');
  expect(elements.get('issuing_country')).toBe('US');
  expect(elements.get('age_over_18')).toBe(true);
  expect(elements.get('height')).toBe(170);
  for (const name of ['birth_date', 'issue_date', 'expiry_date']) expect(isFullDateTag(elements.get(name)), name).toBe(true);
  expect(isFullDateTag(elements.get('birth_date'), '1990-04-12')).toBe(true);
  expect(Buffer.from(elements.get('portrait') as Uint8Array).equals(PORTRAIT)).toBe(true);
  const privileges = elements.get('driving_privileges') as Map<string, unknown>[];
  expect(privileges.map((privilege) => privilege.get('vehicle_category_code'))).toEqual(['B', 'A']);
  // ISO/IEC 18013-5 §7.2.4: the dates inside driving_privileges are full-dates too.
  expect(isFullDateTag(privileges[0]!.get('issue_date'), '2010-05-01')).toBe(true);
  expect(isFullDateTag(privileges[1]!.get('expiry_date'), '2031-01-15')).toBe(true);
  expect((privileges[1]!.get('codes') as Map<string, unknown>[])[0]!.get('value')).toBe('01.06');
  expectUnpredictable(checked.digestIds);
  // What @auth0/mdl read back.
  expect(auth0.elements[MDL_NAMESPACE]).toMatchObject({ family_name: 'Doe', given_name: 'Jane', document_number: 'D1234567', un_distinguishing_sign: 'USA' });
}

function expectBadge(checked: Awaited<ReturnType<typeof handCheck>>) {
  const elements = checked.elements.get(BADGE_DOCTYPE)!;
  expect(elements.get('name')).toBe('Ada Lovelace');
  expect(isFullDateTag(elements.get('start_date'), '2024-03-01')).toBe(true);
  // RFC 3339 with an offset and a fraction becomes UTC, whole seconds.
  const printed = elements.get('badge_printed_at') as InstanceType<typeof Cbor2Tag>;
  expect([printed.tag, printed.contents]).toEqual([0, '2024-03-01T08:30:15Z']);
  expect(Buffer.from(elements.get('photo') as Uint8Array).equals(PORTRAIT)).toBe(true);
  expect(elements.get('clearance_level')).toBe(3);
  expect(elements.get('full_time')).toBe(true);
  expect(elements.get('sites')).toEqual(['London', 'Paris']);
  expect(elements.get('address')).toEqual(new Map<string, unknown>([['street', '12 St James Sq'], ['city', 'London'], ['floor', 2]]));
  expect(typeof elements.get('employee_id')).toBe('string');
}

const DAY_MS = 86_400_000;
function validityOf(checked: Awaited<ReturnType<typeof handCheck>>) {
  const info = checked.mso.get('validityInfo') as Map<string, InstanceType<typeof Cbor2Tag>>;
  const at = (name: string) => new Date(String(info.get(name)!.contents)).getTime();
  return { signed: at('signed'), validFrom: at('validFrom'), validUntil: at('validUntil') };
}

describe.each([
  ['PUBLIC_URL without a path (one metadata document for both dialects)', () => plain],
  ['PUBLIC_URL with a path (a metadata document per dialect)', () => tenant],
])('mDocs through real wallet libraries, %s', (_name, setup) => {
  it('OpenID4VCI 1.0 (@openid4vc/openid4vci): an mDL with every mandatory element, accepted by @auth0/mdl and @owf/mdoc trusting only the IACA', async () => {
    const holder = await holderKey();
    const { credential, entry } = await issueWith10(setup(), setup().mdl, MDL_CLAIMS, holder);
    expect(entry).toMatchObject({ format: 'mso_mdoc', doctype: MDL_DOCTYPE, cryptographic_binding_methods_supported: ['cose_key'] });
    // The 1.0 document names the algorithm as COSE does; the document for both dialects leaves it out.
    expect(entry.credential_signing_alg_values_supported).toEqual(setup() === tenant ? [-7] : undefined);
    const { checked, auth0 } = await verifyEverywhere(setup(), credential, MDL_DOCTYPE, holder);
    expectMdl(checked, auth0);
    const { signed, validFrom, validUntil } = validityOf(checked);
    expect(Math.abs(signed - Date.now())).toBeLessThan(60_000);
    expect(validFrom).toBe(signed);
    expect(validUntil - validFrom).toBe(365 * DAY_MS);
  });

  it('OpenID4VCI 1.0: another docType with every element type, accepted by both verifiers', async () => {
    const holder = await holderKey();
    const { credential } = await issueWith10(setup(), setup().badge, BADGE_CLAIMS, holder);
    const { checked } = await verifyEverywhere(setup(), credential, BADGE_DOCTYPE, holder);
    expectBadge(checked);
    // Two years asked, but a document signer lasts at most 457 days: the mDoc ends with it.
    const { validUntil } = validityOf(checked);
    expect(validUntil).toBe(Math.floor(new Date(checked.documentSigner.validTo).getTime() / 1000) * 1000);
  });

  it('draft 13 (@animo-id/oid4vci): an mDL and another docType, accepted by both verifiers', async () => {
    for (const [id, claims, docType] of [
      [setup().mdl, MDL_CLAIMS, MDL_DOCTYPE],
      [setup().badge, BADGE_CLAIMS, BADGE_DOCTYPE],
    ] as const) {
      const holder = await holderKey();
      const { credential, entry } = await issueWithDraft13(setup(), id, claims, holder);
      expect(entry).toMatchObject({ format: 'mso_mdoc', doctype: docType });
      expect(entry.credential_signing_alg_values_supported).toEqual(setup() === tenant ? ['ES256'] : undefined);
      const { checked, auth0 } = await verifyEverywhere(setup(), credential, docType, holder);
      if (docType === MDL_DOCTYPE) expectMdl(checked, auth0);
      else expectBadge(checked);
    }
  });
});

describe('what the verifiers refuse', () => {
  it('an mDoc presented with another IACA as trust anchor, a tampered element, or a device signature for another session', async () => {
    const holder = await holderKey();
    const { credential } = await issueWith10(plain, plain.mdl, MDL_CLAIMS, holder);
    const issuerSigned = Buffer.from(credential, 'base64url');
    const presented = deviceResponse({ docType: MDL_DOCTYPE, issuerSigned, holder });

    // The tenant's IACA is a real IACA, just not this issuer's.
    expect((await verifyWithAuth0(presented, tenant.iacaPem)).ok).toBe(false);
    expect((await verifyIssuerSignedWithOwf(credential, tenant.iacaPem)).ok).toBe(false);
    expect((await verifyDeviceResponseWithOwf(presented, tenant.iacaPem)).ok).toBe(false);

    // "Doe" → "Doa" inside family_name's item.
    const tampered = Buffer.from(issuerSigned);
    const at = tampered.indexOf(Buffer.from('63446f65', 'hex'));
    expect(at).toBeGreaterThan(0);
    tampered[at + 3] = 0x61;
    expect((await verifyIssuerSignedWithOwf(tampered.toString('base64url'), plain.iacaPem)).ok).toBe(false);
    expect((await verifyWithAuth0(deviceResponse({ docType: MDL_DOCTYPE, issuerSigned: tampered, holder }), plain.iacaPem)).ok).toBe(false);
    expect((await handCheck(tampered)).problems).toContainEqual(expect.stringMatching(/family_name: digest recomputes/));

    // Signed by a key the mDoc is not bound to.
    const other = deviceResponse({ docType: MDL_DOCTYPE, issuerSigned, holder: await holderKey() });
    expect((await verifyWithAuth0(other, plain.iacaPem)).ok).toBe(false);
    expect((await verifyDeviceResponseWithOwf(other, plain.iacaPem)).ok).toBe(false);
  });
});
