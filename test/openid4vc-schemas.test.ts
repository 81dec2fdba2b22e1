import { createHash, randomBytes } from 'node:crypto';
import { clientAuthenticationAnonymous, zAuthorizationServerMetadata } from '@openid4vc/oauth2';
import { Openid4vciClient, Openid4vciIssuer, Openid4vciVersion, type IssuerMetadataResult } from '@openid4vc/openid4vci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/context.js';
import { PRE_AUTHORIZED_GRANT } from '../src/protocol.js';
import { decodeOfferUri, type CreatedOffer } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { MDL_CLAIMS, MDL_CONFIGURATION } from './support/mdoc.js';

// What this service emits, checked against the zod schemas of @openid4vc/openid4vci and
// @openid4vc/oauth2 (the OpenID Foundation's TypeScript libraries): Credential Issuer metadata in
// each dialect (OpenID4VCI 1.0, draft 13, one document for both, vc+sd-jwt), Authorization Server
// metadata, and credential offers by value and by reference, with and without a transaction code,
// for SD-JWT VC and mDoc configurations. The schemas are used as the libraries use them, with
// https required (the libraries' default), so every URL is checked too.

const PUBLIC_URL = 'https://issuer.example.com';
const TENANT = '/tenant';

/** A fetch that serves `issuer`'s public URL from its app, in process, and refuses any other host. */
function fetchFrom(issuer: { app: App; config: { publicUrl: string } }): typeof fetch {
  const origin = new URL(issuer.config.publicUrl).origin;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) throw new Error(`unexpected fetch of ${url.href}`);
    const response = await issuer.app.inject({
      method: (init?.method ?? 'GET') as never,
      url: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      payload: init?.body as string | undefined,
    });
    return new Response(new Uint8Array(response.rawPayload), { status: response.statusCode, headers: response.headers as Record<string, string> });
  };
}

const callbacks = {
  hash: (data: Uint8Array, alg: string) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
  generateRandom: (bytes: number) => new Uint8Array(randomBytes(bytes)),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: () => Promise.reject(new Error('not used')),
  verifyJwt: () => Promise.reject(new Error('not used')),
};
const issuerLibrary = new Openid4vciIssuer({ callbacks: callbacks as never });
const walletLibrary = (issuer: { app: App; config: { publicUrl: string } }) => new Openid4vciClient({ callbacks: { ...callbacks, fetch: fetchFrom(issuer) } as never });

let plain: TestIssuer;
let tenant: TestIssuer;
/** On `plain`'s database. */
let legacyOffers: TestIssuer;
let legacyFormat: TestIssuer;
let sdJwt: string;
let mdl: string;
let tenantSdJwt: string;
let tenantMdl: string;
beforeAll(async () => {
  [plain, tenant] = await Promise.all([startTestIssuer({ publicUrl: PUBLIC_URL }), startTestIssuer({ publicUrl: `${PUBLIC_URL}${TENANT}` })]);
  [legacyOffers, legacyFormat] = await Promise.all([
    startTestIssuer({ publicUrl: PUBLIC_URL, databaseUrl: plain.databaseUrl, env: { OFFER_LEGACY_CREDENTIALS: 'true' } }),
    startTestIssuer({ publicUrl: PUBLIC_URL, databaseUrl: plain.databaseUrl, env: { SD_JWT_VC_FORMAT: 'vc+sd-jwt' } }),
  ]);
  const sdJwtConfiguration = {
    claimMappings: { given_name: { mapFrom: 'claims.givenName', required: true }, address: { mapFrom: 'claims.address' } },
    branding: { name: 'Test card', backgroundColor: '#112233', logo: { uri: 'https://example.com/logo.png', altText: 'logo' } },
  };
  ({ id: sdJwt } = await plain.client.createConfiguration(sdJwtConfiguration));
  ({ id: mdl } = await plain.client.createMdocConfiguration(MDL_CONFIGURATION));
  ({ id: tenantSdJwt } = await tenant.client.createConfiguration(sdJwtConfiguration));
  ({ id: tenantMdl } = await tenant.client.createMdocConfiguration(MDL_CONFIGURATION));
});
afterAll(async () => {
  await Promise.all([legacyOffers?.close(), legacyFormat?.close()]);
  await Promise.all([plain?.close(), tenant?.close()]);
});

async function getJson(issuer: TestIssuer, path: string) {
  const response = await issuer.client.get(path, null);
  expect(response.statusCode, path).toBe(200);
  return response.json();
}

describe('Credential Issuer metadata against Openid4vciIssuer (zCredentialIssuerMetadata and each format schema)', () => {
  const documents = () => [
    { name: 'one document for 1.0 and draft 13', issuer: plain, path: '/.well-known/openid-credential-issuer', ids: [sdJwt, mdl] },
    { name: 'vc+sd-jwt (SD_JWT_VC_FORMAT)', issuer: legacyFormat, path: '/.well-known/openid-credential-issuer', ids: [sdJwt, mdl] },
    { name: 'OpenID4VCI 1.0, under a path', issuer: tenant, path: `/.well-known/openid-credential-issuer${TENANT}`, ids: [tenantSdJwt, tenantMdl] },
    { name: 'draft 13, under a path', issuer: tenant, path: `${TENANT}/.well-known/openid-credential-issuer`, ids: [tenantSdJwt, tenantMdl] },
  ];

  it('every document parses, and every configuration in it passes its format schema', async () => {
    for (const { name, issuer, path, ids } of documents()) {
      const document = await getJson(issuer, path);
      expect(() => issuerLibrary.createCredentialIssuerMetadata(document), name).not.toThrow();
      const known = issuerLibrary.getKnownCredentialConfigurationsSupported(document);
      expect(Object.keys(known).sort(), name).toEqual([...ids].sort());
    }
  });

  it('the wallet side resolves the 1.0 location of each issuer as OpenID4VCI 1.0, with its Authorization Server', async () => {
    for (const [issuer, ids] of [
      [plain, [sdJwt, mdl]],
      [tenant, [tenantSdJwt, tenantMdl]],
    ] as const) {
      const resolved: IssuerMetadataResult = await walletLibrary(issuer).resolveIssuerMetadata(issuer.config.publicUrl);
      expect(resolved.originalDraftVersion).toBe(Openid4vciVersion.V1);
      expect(resolved.credentialIssuer.credential_issuer).toBe(issuer.config.publicUrl);
      expect(Object.keys(resolved.knownCredentialConfigurations).sort()).toEqual([...ids].sort());
      expect(resolved.authorizationServers.map((server) => server.issuer)).toEqual([issuer.config.publicUrl]);
    }
  });

  it('the schemas are not a formality: a document with an http endpoint or a configuration without its format fields is refused', async () => {
    const document = await getJson(plain, '/.well-known/openid-credential-issuer');
    expect(() => issuerLibrary.createCredentialIssuerMetadata({ ...document, credential_endpoint: 'http://issuer.example.com/v1/openid/credential' })).toThrow();
    const { vct: _vct, ...withoutVct } = document.credential_configurations_supported[sdJwt];
    const broken = { ...document, credential_configurations_supported: { ...document.credential_configurations_supported, [sdJwt]: withoutVct } };
    expect(Object.keys(issuerLibrary.getKnownCredentialConfigurationsSupported(broken))).toEqual([mdl]);
  });
});

describe('Authorization Server metadata against zAuthorizationServerMetadata (@openid4vc/oauth2)', () => {
  it('parses at every location it is served, and names the pre-authorized grant and DPoP', async () => {
    for (const [issuer, path] of [
      [plain, '/.well-known/oauth-authorization-server'],
      [tenant, `/.well-known/oauth-authorization-server${TENANT}`],
      [tenant, `${TENANT}/.well-known/oauth-authorization-server`],
    ] as const) {
      const metadata = zAuthorizationServerMetadata.parse(await getJson(issuer, path));
      expect(metadata).toMatchObject({
        issuer: issuer.config.publicUrl,
        token_endpoint: `${issuer.config.publicUrl}/v1/oauth/token`,
        grant_types_supported: [PRE_AUTHORIZED_GRANT],
        'pre-authorized_grant_anonymous_access_supported': true,
        dpop_signing_alg_values_supported: ['ES256'],
      });
    }
  });
});

describe('credential offers against zCredentialOfferObject', () => {
  /** The offer object a URI carries, by value or fetched by reference. */
  async function offerObject(issuer: TestIssuer, created: CreatedOffer) {
    const reference = /[?&]credential_offer_uri=([^&]+)/.exec(created.uri)?.[1];
    return reference ? getJson(issuer, new URL(decodeURIComponent(reference)).pathname) : decodeOfferUri(created.uri);
  }

  const cases = () => [
    { name: 'SD-JWT VC by value with a numeric code', issuer: plain, body: { credentials: [sdJwt], transactionCodeConfiguration: { description: 'Sent by e-mail' } } },
    { name: 'mDoc by value without a code', issuer: plain, body: { credentials: [mdl] } },
    { name: 'both by reference with a text code', issuer: plain, body: { credentials: [sdJwt, mdl], byReference: true, transactionCodeConfiguration: { inputMode: 'text', length: 8 } } },
    { name: 'mDoc by reference without a code, under a path', issuer: tenant, body: { credentials: [tenantMdl], byReference: true } },
    { name: 'SD-JWT VC by value, under a path', issuer: tenant, body: { credentials: [tenantSdJwt], transactionCodeConfiguration: {} } },
    { name: 'with the legacy credentials list, by value', issuer: legacyOffers, body: { credentials: [sdJwt, mdl], transactionCodeConfiguration: {} } },
    { name: 'with the legacy credentials list, by reference', issuer: legacyOffers, body: { credentials: [mdl], byReference: true } },
  ];

  it('each offer resolves through the wallet library and is what Openid4vciIssuer would make from the same grant', async () => {
    for (const { name, issuer, body } of cases()) {
      const created = await issuer.client.createOffer({ ...body, claims: MDL_CLAIMS });
      const offer = await offerObject(issuer, created);
      const wallet = walletLibrary(issuer);

      const resolved = await wallet.resolveCredentialOffer(created.uri);
      expect(resolved, name).toMatchObject({ credential_issuer: issuer.config.publicUrl, credential_configuration_ids: body.credentials });
      expect(resolved.grants?.[PRE_AUTHORIZED_GRANT]?.['pre-authorized_code'], name).toBe(created.code);
      const txCode = resolved.grants?.[PRE_AUTHORIZED_GRANT]?.tx_code;
      if (body.transactionCodeConfiguration) expect(txCode?.length, name).toBe(String(created.transactionCode).length);
      else expect(txCode, name).toBeUndefined();

      const { credential_configuration_ids: ids, grants, credentials, ...rest } = offer;
      expect(rest, name).toEqual({ credential_issuer: issuer.config.publicUrl });
      expect(credentials, name).toEqual(issuer === legacyOffers ? ids : undefined);
      const made = await issuerLibrary.createCredentialOffer({
        issuerMetadata: await wallet.resolveIssuerMetadata(issuer.config.publicUrl),
        credentialConfigurationIds: ids,
        grants,
      });
      expect(made.credentialOfferObject, name).toEqual({ credential_issuer: issuer.config.publicUrl, credential_configuration_ids: ids, grants });
    }
  });

  it('the offer schema is not a formality: an http issuer or a code that is not a string is refused', async () => {
    const created = await plain.client.createOffer({ credentials: [sdJwt], claims: MDL_CLAIMS });
    const offer = decodeOfferUri(created.uri);
    const uri = (value: object) => `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(value))}`;
    const wallet = walletLibrary(plain);
    await expect(wallet.resolveCredentialOffer(uri(offer))).resolves.toBeDefined();
    await expect(wallet.resolveCredentialOffer(uri({ ...offer, credential_issuer: 'http://issuer.example.com' }))).rejects.toThrow();
    await expect(wallet.resolveCredentialOffer(uri({ ...offer, grants: { [PRE_AUTHORIZED_GRANT]: { 'pre-authorized_code': 42 } } }))).rejects.toThrow();
  });
});
