import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { clientAuthenticationNone } from '@animo-id/oauth2';
import { Oid4vciClient, Oid4vciDraftVersion, setGlobalConfig as setAnimoGlobalConfig } from '@animo-id/oid4vci';
import { Openid4vciVersion } from '@openid4vc/openid4vci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { MDL_CONFIGURATION, MDL_DOCTYPE } from './support/mdoc.js';
import { holderKey, walletClient } from './support/wallet.js';

setAnimoGlobalConfig({ allowInsecureUrls: true });

// The Credential Issuer metadata per dialect: a PUBLIC_URL with a path has its OpenID4VCI 1.0
// document where 1.0 wallets look (inserted before the path) and its draft 13 document where draft
// 13 wallets look (appended); without a path one document serves both. Each is read by the wallet
// library of its dialect. mso_mdoc is where the dialects conflict, on the signing algorithm.

const TENANT = '/tenants/acme';
let tenant: TestIssuer;
let plain: TestIssuer;
let sdJwt: string;
/** The mDL configuration's id on each issuer. */
let mdl: string;
let plainMdl: string;
beforeAll(async () => {
  [tenant, plain] = await Promise.all([startTestIssuer({ listen: true, publicPath: TENANT }), startTestIssuer({ listen: true })]);
  sdJwt = (await tenant.client.createConfiguration({ claimMappings: { name: { mapFrom: 'claims.name', required: true } } })).id;
  mdl = (await tenant.client.createMdocConfiguration(MDL_CONFIGURATION)).id;
  plainMdl = (await plain.client.createMdocConfiguration(MDL_CONFIGURATION)).id;
});
afterAll(async () => {
  await tenant?.close();
  await plain?.close();
});

const origin = (issuer: TestIssuer) => new URL(issuer.config.publicUrl).origin;
async function document(url: string) {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as { credential_issuer: string; credential_configurations_supported: Record<string, Record<string, unknown>> };
}

function animoWallet() {
  return new Oid4vciClient({
    callbacks: {
      hash: (data: Uint8Array, alg: string) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (bytes: number) => new Uint8Array(randomBytes(bytes)),
      clientAuthentication: clientAuthenticationNone(),
      signJwt: async () => {
        throw new Error('not used');
      },
      verifyJwt: async () => ({ verified: false }),
      fetch,
    } as never,
  });
}
const openid4vcWallet = async () => walletClient(await holderKey());

describe('metadata per dialect', () => {
  it('with a path: the 1.0 document at the inserted location, the draft 13 one at the appended location; SD-JWT entries alike', async () => {
    const v1 = await document(`${origin(tenant)}/.well-known/openid-credential-issuer${TENANT}`);
    const draft13 = await document(`${tenant.config.publicUrl}/.well-known/openid-credential-issuer`);
    for (const doc of [v1, draft13]) expect(doc.credential_issuer).toBe(tenant.config.publicUrl);
    expect(v1.credential_configurations_supported[sdJwt]).toEqual(draft13.credential_configurations_supported[sdJwt]);

    const v1Entry = v1.credential_configurations_supported[mdl]!;
    expect(v1Entry).toMatchObject({ format: 'mso_mdoc', doctype: MDL_DOCTYPE, credential_signing_alg_values_supported: [-7], credential_metadata: { claims: expect.any(Array) } });
    expect(v1Entry).not.toHaveProperty('claims');
    expect(v1Entry).not.toHaveProperty('order');
    const draft13Entry = draft13.credential_configurations_supported[mdl]!;
    expect(draft13Entry).toMatchObject({ format: 'mso_mdoc', doctype: MDL_DOCTYPE, credential_signing_alg_values_supported: ['ES256'], claims: { 'org.iso.18013.5.1': expect.any(Object) } });
    expect(draft13Entry).not.toHaveProperty('credential_metadata');
    expect(draft13Entry.order).toContain('org.iso.18013.5.1~portrait');
  });

  it('each document parses with the wallet library of its dialect: @openid4vc/openid4vci finds 1.0, @animo-id/oid4vci draft 13', async () => {
    const v1 = await (await openid4vcWallet()).resolveIssuerMetadata(tenant.config.publicUrl);
    expect(v1.originalDraftVersion).toBe(Openid4vciVersion.V1);
    expect(v1.credentialIssuer.credential_configurations_supported[mdl]).toMatchObject({ credential_signing_alg_values_supported: [-7] });
    const draft13 = await animoWallet().resolveIssuerMetadata(tenant.config.publicUrl);
    expect(draft13.originalDraftVersion).toBe(Oid4vciDraftVersion.Draft14);
    expect(draft13.credentialIssuer.credential_configurations_supported[mdl]).toMatchObject({ credential_signing_alg_values_supported: ['ES256'] });
  });

  it('without a path, one document for both: each library reads it, and its mso_mdoc entry names no algorithm', async () => {
    const both = await document(`${plain.config.publicUrl}/.well-known/openid-credential-issuer`);
    const entry = both.credential_configurations_supported[plainMdl]!;
    expect(entry).toMatchObject({ credential_metadata: { claims: expect.any(Array) }, claims: expect.any(Object), order: expect.any(Array), display: expect.any(Array) });
    expect(entry).not.toHaveProperty('credential_signing_alg_values_supported');
    expect((await (await openid4vcWallet()).resolveIssuerMetadata(plain.config.publicUrl)).credentialIssuer.credential_configurations_supported[plainMdl]).toBeDefined();
    expect((await animoWallet().resolveIssuerMetadata(plain.config.publicUrl)).credentialIssuer.credential_configurations_supported[plainMdl]).toBeDefined();
  });

  it('a new configuration reaches both documents at once', async () => {
    const created = await tenant.client.createMdocConfiguration({ type: `com.example.new.${randomBytes(4).toString('hex')}` });
    for (const url of [`${origin(tenant)}/.well-known/openid-credential-issuer${TENANT}`, `${tenant.config.publicUrl}/.well-known/openid-credential-issuer`]) {
      expect((await document(url)).credential_configurations_supported[created.id], url).toBeDefined();
    }
  });
});

describe('why the document for both dialects names no algorithm for mso_mdoc', () => {
  /** A plain HTTP server on 127.0.0.1 serving this issuer's 'both' document with one change, and AS metadata. */
  async function serve(change: (entry: Record<string, unknown>) => void): Promise<{ url: string; server: Server }> {
    const both = await document(`${plain.config.publicUrl}/.well-known/openid-credential-issuer`);
    const server = createServer((request, response) => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const body =
        request.url === '/.well-known/openid-credential-issuer'
          ? JSON.stringify(
              JSON.parse(JSON.stringify(both).replaceAll(plain.config.publicUrl, url), (key, value) => {
                if (value && typeof value === 'object' && value.format === 'mso_mdoc') change(value);
                return value;
              }),
            )
          : request.url === '/.well-known/oauth-authorization-server'
            ? JSON.stringify({ issuer: url, token_endpoint: `${url}/v1/oauth/token`, grant_types_supported: ['urn:ietf:params:oauth:grant-type:pre-authorized_code'] })
            : undefined;
      response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  it('@openid4vc/openid4vci finds the entry invalid with "ES256" beside credential_metadata (1.0 wants COSE numbers) and will not request it; @animo-id/oid4vci refuses the whole document with -7 (draft 13 wants strings)', async () => {
    const control = await serve(() => {});
    const withString = await serve((entry) => (entry.credential_signing_alg_values_supported = ['ES256']));
    const withNumber = await serve((entry) => (entry.credential_signing_alg_values_supported = [-7]));
    try {
      const v1 = await openid4vcWallet();
      // As served, both read it and know the configuration.
      expect((await v1.resolveIssuerMetadata(control.url)).knownCredentialConfigurations[plainMdl]).toBeDefined();
      expect((await animoWallet().resolveIssuerMetadata(control.url)).credentialIssuer.credential_configurations_supported[plainMdl]).toBeDefined();

      const stringMetadata = await v1.resolveIssuerMetadata(withString.url);
      expect(stringMetadata.knownCredentialConfigurations[plainMdl]).toBeUndefined();
      await expect(v1.retrieveCredentials({ issuerMetadata: stringMetadata, accessToken: 'unused', credentialConfigurationId: plainMdl, proofs: { jwt: ['unused'] } })).rejects.toThrow(/is not valid/);
      await animoWallet().resolveIssuerMetadata(withString.url);

      expect((await v1.resolveIssuerMetadata(withNumber.url)).knownCredentialConfigurations[plainMdl]).toBeDefined();
      await expect(animoWallet().resolveIssuerMetadata(withNumber.url)).rejects.toThrow();
    } finally {
      for (const { server } of [control, withString, withNumber]) await new Promise((resolve) => server.close(resolve));
    }
  });
});
