import { createHash, randomBytes } from 'node:crypto';
import { clientAuthenticationNone } from '@animo-id/oauth2';
import { Oid4vciClient, Oid4vciDraftVersion, setGlobalConfig } from '@animo-id/oid4vci';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { SignJWT, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, type HolderKey } from './support/wallet.js';

setGlobalConfig({ allowInsecureUrls: true });

// @animo-id/oid4vci 0.1 is a wallet library of the draft 13/14 era: format + vct + a single `proof`,
// the c_nonce from the token response, and only the `vc+sd-jwt` format identifier. Issuers serving
// such wallets set SD_JWT_VC_FORMAT=vc+sd-jwt.
let issuer: TestIssuer;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true, env: { SD_JWT_VC_FORMAT: 'vc+sd-jwt' } });
  const configuration = { type: 'https://credentials.example.com/membership', claimMappings: { name: { mapFrom: 'claims.name', required: true } } };
  configurationId = (await issuer.client.createConfiguration(configuration)).id;
});
afterAll(() => issuer.close());

function draft13Wallet(holder: HolderKey) {
  return new Oid4vciClient({
    callbacks: {
      hash: (data: Uint8Array, alg: string) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (bytes: number) => new Uint8Array(randomBytes(bytes)),
      clientAuthentication: clientAuthenticationNone(),
      signJwt: async (_signer: unknown, { header, payload }: { header: object; payload: object }) =>
        new SignJWT(payload as never).setProtectedHeader(header as never).sign(holder.privateKey),
      verifyJwt: async () => ({ verified: false }),
      fetch,
    } as never,
  });
}

describe('interop with a draft 13 wallet library (@animo-id/oid4vci 0.1)', () => {
  it('redeems the offer with the c_nonce from the token response and gets a vc+sd-jwt credential', async () => {
    const offer = await issuer.client.createOffer({ credentials: [configurationId], claims: { name: 'Grace' }, transactionCodeConfiguration: { inputMode: 'text', length: 8 } });
    const holder = await holderKey();
    const client = draft13Wallet(holder);

    const credentialOffer = await client.resolveCredentialOffer(offer.uri);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    expect(issuerMetadata.originalDraftVersion).toBe(Oid4vciDraftVersion.Draft14);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: String(offer.transactionCode) });
    expect(accessTokenResponse.c_nonce).toEqual(expect.any(String));

    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: configurationId,
      signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk as never },
      nonce: accessTokenResponse.c_nonce as string,
    });
    const result = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: configurationId,
      proof: { proof_type: 'jwt', jwt },
    });
    const response = result.credentialResponse as { credential: string; c_nonce: string; c_nonce_expires_in: number };
    expect(response).toEqual({ credential: expect.any(String), c_nonce: expect.any(String), c_nonce_expires_in: expect.any(Number), notification_id: expect.any(String) });
    expect(decodeProtectedHeader(response.credential.split('~')[0]!)).toMatchObject({ typ: 'vc+sd-jwt', alg: 'ES256' });

    const { jwks } = await (await fetch(`${issuer.url}/.well-known/jwt-vc-issuer`)).json();
    const verifier = new SDJwtVcInstance({
      hasher: (data: string | ArrayBuffer) => new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest()),
      verifier: async (data: string, signature: string) => {
        const { kid } = decodeProtectedHeader(`${data.split('.')[0]}.e30.`);
        const jwk = jwks.keys.find((key: JWK) => key.kid === kid);
        return compactVerify(`${data}.${signature}`, await importJWK(jwk, 'ES256')).then(
          () => true,
          () => false,
        );
      },
    });
    const { payload } = await verifier.verify(response.credential);
    expect(payload).toMatchObject({ vct: 'https://credentials.example.com/membership', name: 'Grace', cnf: { jwk: { x: holder.publicJwk.x } } });
  });
});
