import { X509Certificate, createHash } from 'node:crypto';
import { Openid4vciRetrieveCredentialsError } from '@openid4vc/openid4vci';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, walletClient } from './support/wallet.js';

let issuer: TestIssuer;
let configurationId: string;

beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true });
  const configuration = await issuer.client.createConfiguration({
    type: 'https://credentials.example.com/university-degree',
    name: 'University degree',
    claimMappings: {
      given_name: { mapFrom: 'claims.givenName', required: true },
      degree: { mapFrom: 'claims.degree', required: true, selectivelyDisclosable: false },
      student_id: { mapFrom: 'user.id' },
      graduation_year: { mapFrom: 'claims.year', defaultValue: 2024 },
    },
    expiresIn: { years: 5 },
    branding: { name: 'Degree', backgroundColor: '#112233', logo: { uri: 'https://example.com/logo.png', altText: 'logo' } },
  });
  configurationId = configuration.id;
});
afterAll(() => issuer.close());

const createOffer = (extra: Record<string, unknown> = {}) =>
  issuer.client.createOffer({ credentials: [configurationId], claims: { givenName: 'Ada', degree: 'MSc Computing' }, ...extra });

/** A verifier that trusts only what the issuer publishes at /.well-known/jwt-vc-issuer. */
async function verifyWithPublishedKeys(credential: string) {
  const jwtVcIssuer = await (await fetch(`${issuer.url}/.well-known/jwt-vc-issuer`)).json();
  expect(jwtVcIssuer.issuer).toBe(issuer.url);
  const verifier = new SDJwtVcInstance({
    hasher: (data: string | ArrayBuffer) => new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest()),
    verifier: async (data: string, signature: string) => {
      const [headerPart] = data.split('.');
      const { kid } = decodeProtectedHeader(`${headerPart}.e30.`);
      const jwk = jwtVcIssuer.jwks.keys.find((key: JWK) => key.kid === kid);
      if (!jwk) return false;
      try {
        await compactVerify(`${data}.${signature}`, await importJWK(jwk, 'ES256'));
        return true;
      } catch {
        return false;
      }
    },
  });
  return verifier.verify(credential);
}

describe('interop with @openid4vc/openid4vci (OpenID4VCI 1.0 wallet) and @sd-jwt/sd-jwt-vc', () => {
  for (const withTxCode of [true, false]) {
    it(`issues a verifiable, key-bound SD-JWT VC ${withTxCode ? 'with' : 'without'} a transaction code`, async () => {
      const offer = await createOffer(withTxCode ? { transactionCodeConfiguration: { description: 'Sent by e-mail' } } : {});
      const holder = await holderKey();
      const client = walletClient(holder);

      const credentialOffer = await client.resolveCredentialOffer(offer.uri);
      const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
      expect(issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId]).toMatchObject({ format: 'dc+sd-jwt' });

      const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer,
        issuerMetadata,
        txCode: withTxCode ? String(offer.transactionCode) : undefined,
      });
      expect(accessTokenResponse.token_type).toBe('Bearer');

      const { c_nonce } = await client.requestNonce({ issuerMetadata });
      const { jwt } = await client.createCredentialRequestJwtProof({
        issuerMetadata,
        credentialConfigurationId: configurationId,
        signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk as never },
        nonce: c_nonce,
      });
      const result = await client.retrieveCredentials({
        issuerMetadata,
        accessToken: accessTokenResponse.access_token,
        credentialConfigurationId: configurationId,
        proofs: { jwt: [jwt] },
      });
      const credentials = result.credentialResponse.credentials as { credential: string }[];
      expect(credentials).toHaveLength(1);
      const credential = credentials[0]!.credential;

      const header = decodeProtectedHeader(credential.split('~')[0]!);
      expect(header).toMatchObject({ typ: 'dc+sd-jwt', alg: 'ES256', kid: expect.any(String), x5c: [expect.any(String)] });

      const { payload } = await verifyWithPublishedKeys(credential);
      expect(payload).toMatchObject({
        iss: issuer.url,
        vct: 'https://credentials.example.com/university-degree',
        given_name: 'Ada',
        degree: 'MSc Computing',
        student_id: offer.userId,
        graduation_year: 2024,
        cnf: { jwk: { kty: 'EC', crv: 'P-256', x: holder.publicJwk.x, y: holder.publicJwk.y } },
      });
      expect((payload.exp as number) - (payload.iat as number)).toBeGreaterThan(5 * 365 * 86400 - 86400 * 2);

      // degree is not selectively disclosable; the others are disclosures, and reserved claims never are.
      const [jwtPart, ...disclosures] = credential.split('~');
      const rawPayload = JSON.parse(Buffer.from(jwtPart!.split('.')[1]!, 'base64url').toString());
      expect(rawPayload.degree).toBe('MSc Computing');
      expect(rawPayload.given_name).toBeUndefined();
      expect(rawPayload._sd_alg).toBe('sha-256');
      const disclosed = disclosures.filter(Boolean).map((d) => JSON.parse(Buffer.from(d, 'base64url').toString()));
      expect(disclosed.map((d) => d[1]).sort()).toEqual(['given_name', 'graduation_year', 'student_id']);
      for (const [salt] of disclosed) expect(Buffer.from(salt, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(credential.endsWith('~')).toBe(true);

      // The x5c leaf certifies the same key as the JWKS entry.
      const jwks = (await (await fetch(`${issuer.url}/.well-known/jwt-vc-issuer`)).json()).jwks.keys;
      const published = jwks.find((key: JWK) => key.kid === header.kid);
      const leaf = new X509Certificate(Buffer.from((header.x5c as string[])[0]!, 'base64'));
      expect(leaf.publicKey.export({ format: 'jwk' })).toMatchObject({ x: published.x, y: published.y });
      expect(leaf.checkIssued(leaf)).toBe(false); // HAIP: the leaf is not self-signed, and the trust anchor is left out

      // Single use: the code cannot be redeemed again.
      await expect(
        client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: withTxCode ? String(offer.transactionCode) : undefined }),
      ).rejects.toThrow();
    });
  }

  it('by reference over DPoP: the library answers the token and credential endpoints\' nonce challenges, and gets a DPoP-bound token', async () => {
    const offer = await createOffer({ byReference: true });
    expect(offer.uri).toMatch(/^openid-credential-offer:\/\/\?credential_offer_uri=/);
    const holder = await holderKey();
    const client = walletClient(holder);
    const signer = { method: 'jwk' as const, alg: 'ES256', publicJwk: holder.publicJwk as never };

    const credentialOffer = await client.resolveCredentialOffer(offer.uri);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse, dpop } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, dpop: { signer } });
    expect(accessTokenResponse.token_type).toBe('DPoP');
    expect(dpop?.nonce).toEqual(expect.any(String));

    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configurationId, signer, nonce: c_nonce });
    // Without the server's DPoP nonce the credential endpoint challenges; the library retries with the new one.
    const result = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: configurationId,
      proofs: { jwt: [jwt] },
      dpop: { signer },
    });
    const credential = (result.credentialResponse.credentials as { credential: string }[])[0]!.credential;
    expect((await verifyWithPublishedKeys(credential)).payload).toMatchObject({ given_name: 'Ada', cnf: { jwk: { x: holder.publicJwk.x } } });

    // The token is bound: without a DPoP proof, as Bearer, the library gets nothing.
    const { jwt: another } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configurationId, signer, nonce: (await client.requestNonce({ issuerMetadata })).c_nonce });
    const asBearer = await client
      .retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId, proofs: { jwt: [another] } })
      .catch((error: unknown) => error);
    expect(asBearer).toBeInstanceOf(Openid4vciRetrieveCredentialsError);
    expect((asBearer as Openid4vciRetrieveCredentialsError).response.response.status).toBe(401);
    expect((asBearer as Openid4vciRetrieveCredentialsError).response.credentialErrorResponseResult?.data).toMatchObject({ error: 'invalid_token' });
  });

  it('serves metadata that the wallet library and RFC 8414 clients accept', async () => {
    const as = await (await fetch(`${issuer.url}/.well-known/oauth-authorization-server`)).json();
    expect(as).toMatchObject({
      issuer: issuer.url,
      token_endpoint: `${issuer.url}/v1/oauth/token`,
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:pre-authorized_code'],
      'pre-authorized_grant_anonymous_access_supported': true,
    });
    const metadata = await (await fetch(`${issuer.url}/.well-known/openid-credential-issuer`)).json();
    expect(metadata).toMatchObject({
      credential_issuer: issuer.url,
      credential_endpoint: `${issuer.url}/v1/openid/credential`,
      nonce_endpoint: `${issuer.url}/v1/openid/nonce`,
      batch_credential_issuance: { batch_size: expect.any(Number) },
    });
    expect(metadata.credential_configurations_supported[configurationId]).toMatchObject({
      format: 'dc+sd-jwt',
      vct: 'https://credentials.example.com/university-degree',
      scope: configurationId,
      cryptographic_binding_methods_supported: ['jwk'],
      credential_signing_alg_values_supported: ['ES256'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
      credential_metadata: {
        display: [{ name: 'Degree', background_color: '#112233', logo: { uri: 'https://example.com/logo.png', alt_text: 'logo' } }],
        claims: expect.arrayContaining([{ path: ['given_name'], mandatory: true, display: [{ name: 'given_name', locale: 'en' }] }]),
      },
    });
  });
});
