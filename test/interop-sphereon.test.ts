import { X509Certificate, createHash } from 'node:crypto';
import { decodeSDJWT, verifySDJWT, type JWK as MeecoJwk } from '@meeco/sd-jwt';
import {
  CredentialRequestClientBuilderV1_0_15,
  OpenID4VCIClientV1_0_15,
  ProofOfPossessionBuilder,
} from '@sphereon/oid4vci-client';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK, type ProtectedHeaderParameters } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IACAS, ISSUER_KEYS } from './support/client.js';
import { OfflineIaca } from './support/offline-iaca.js';
import { MDL_CLAIMS, MDL_CONFIGURATION, MDL_DOCTYPE, handCheck, verifyIssuerSignedWithOwf } from './support/mdoc.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, type HolderKey } from './support/wallet.js';

// A second, independent wallet library: Sphereon's @sphereon/oid4vci-client 0.20 (the client of the
// Sphereon SSI SDK and its wallets). It speaks the draft 15 shape of OpenID4VCI — credential_configuration_id
// with one `proof`, a c_nonce from the nonce endpoint — and DPoP (RFC 9449) with the server nonce dance.
// The SD-JWT VCs it gets are verified by a second SD-JWT implementation, @meeco/sd-jwt (no code shared
// with @sd-jwt/*), trusting only the keys the issuer publishes; its mDLs by @owf/mdoc, trusting the IACA.

let issuer: TestIssuer;
let configurationId: string;
const VCT = 'https://credentials.example.com/employee';
beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true });
  const configuration = await issuer.client.createConfiguration({
    type: VCT,
    claimMappings: {
      given_name: { mapFrom: 'claims.givenName', required: true },
      employer: { mapFrom: 'claims.employer', required: true, selectivelyDisclosable: false },
      role: { mapFrom: 'claims.role' },
    },
  });
  configurationId = configuration.id;
});
afterAll(() => issuer.close());

// The option types of the client, without importing its transitive packages.
type ProofOfPossessionCallbacks = Parameters<OpenID4VCIClientV1_0_15['acquireCredentials']>[0]['proofCallbacks'];
type CreateDPoPClientOpts = NonNullable<NonNullable<Parameters<OpenID4VCIClientV1_0_15['acquireAccessToken']>[0]>['createDPoPOpts']>;

const CLAIMS = { givenName: 'Ada', employer: 'Analytical Engines Ltd', role: 'Engineer' };

/** The proof of possession, signed by jose with the holder's key: the library hands us header and payload. */
function proofCallbacks(holder: HolderKey): ProofOfPossessionCallbacks {
  return { signCallback: async ({ header, payload }) => new SignJWT(payload as never).setProtectedHeader(header as never).sign(holder.privateKey) };
}

/** DPoP proofs the library builds (htm, htu, ath, nonce, jti) and jose signs with `key`; `signed` sees each payload. */
function dpopOptions(key: HolderKey, extra: { accessToken?: string; nonce?: string } = {}, signed: Record<string, unknown>[] = []): CreateDPoPClientOpts {
  return {
    createJwtCallback: async (_issuer, { header, payload }) => {
      signed.push(payload);
      return new SignJWT(payload as never).setProtectedHeader(header as never).sign(key.privateKey);
    },
    jwtIssuer: { alg: 'ES256', jwk: key.publicJwk as never },
    jwtPayloadProps: { ...extra },
    dPoPSigningAlgValuesSupported: ['ES256'],
  };
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('base64url');

/**
 * What a holder presents: the issuer-signed JWT, the disclosures it chooses, and a key binding JWT
 * (SD-JWT §4.3: typ kb+jwt, aud, nonce, iat, sd_hash over the presentation before it).
 */
async function present(credential: string, holder: HolderKey, keep: (claimName: string) => boolean, audience: { aud: string; nonce: string }) {
  const [jwt, ...disclosures] = credential.split('~').filter(Boolean);
  const chosen = disclosures.filter((disclosure) => keep(JSON.parse(Buffer.from(disclosure, 'base64url').toString())[1]));
  const presentation = `${[jwt, ...chosen].join('~')}~`;
  const kbJwt = await new SignJWT({ ...audience, sd_hash: sha256(presentation) })
    .setProtectedHeader({ typ: 'kb+jwt', alg: 'ES256' })
    .setIssuedAt()
    .sign(holder.privateKey);
  return presentation + kbJwt;
}

type TrustedKey = 'jwt-vc-issuer' | 'x5c';

/** The root of the issuer's certificate chain: what an issuer hands its verifiers out of band. */
async function trustAnchor(): Promise<X509Certificate> {
  const { data } = (await issuer.client.get(ISSUER_KEYS)).json() as { data: { status: string; certificateChain: string[] }[] };
  return new X509Certificate(data.find((key) => key.status === 'active')!.certificateChain.at(-1)!);
}

/**
 * @meeco/sd-jwt verifying a presentation: the issuer's signature with the key `trust` names (the
 * JWKS entry of /.well-known/jwt-vc-issuer by kid, or the header's x5c leaf once it chains to the
 * issuer's trust anchor), then the key binding JWT with the cnf key, for `audience`.
 */
async function verifyWithMeeco(presentation: string, trust: TrustedKey, audience: { aud: string; nonce: string }) {
  const published = (await (await fetch(`${issuer.url}/.well-known/jwt-vc-issuer`)).json()) as { issuer: string; jwks: { keys: JWK[] } };
  expect(published.issuer).toBe(issuer.url);
  const anchor = await trustAnchor();
  const issuerKey = async (header: ProtectedHeaderParameters) => {
    if (trust === 'jwt-vc-issuer') {
      const entry = published.jwks.keys.find((key) => key.kid === header.kid);
      return entry && importJWK(entry, 'ES256');
    }
    const leaf = header.x5c?.[0] && new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
    if (!leaf || !leaf.checkIssued(anchor) || !leaf.verify(anchor.publicKey)) return undefined;
    return leaf.publicKey;
  };
  const issuerSignature = async (compactJwt: string) => {
    const key = await issuerKey(decodeProtectedHeader(compactJwt));
    if (!key) return false;
    const { payload } = await jwtVerify(compactJwt, key, { issuer: published.issuer, typ: 'dc+sd-jwt' });
    return payload.vct === VCT;
  };
  const keyBinding = async (kbJwt: string, holderJwk: MeecoJwk) => {
    const { payload } = await jwtVerify(kbJwt, await importJWK(holderJwk as JWK, 'ES256'), { typ: 'kb+jwt', audience: audience.aud, maxTokenAge: '5m' });
    return payload.nonce === audience.nonce && payload.sd_hash === sha256(presentation.slice(0, presentation.lastIndexOf('~') + 1));
  };
  const getHasher = async (algorithm: string) => {
    if (algorithm.toLowerCase() !== 'sha-256') throw new Error(`unexpected _sd_alg ${algorithm}`);
    return sha256;
  };
  return verifySDJWT(presentation, issuerSignature, getHasher, { kb: { verifier: keyBinding } });
}

const VERIFIER = { aud: 'https://verifier.example.com', nonce: 'n-0S6_WzA2Mj' };

describe('interop with @sphereon/oid4vci-client 0.20 (draft 15 wallet) and @meeco/sd-jwt', () => {
  it('by value with a transaction code: token, c_nonce from the nonce endpoint, a jose-signed proof; a key-bound SD-JWT VC that verifies', async () => {
    const offer = await issuer.client.createOffer({ credentials: [configurationId], claims: CLAIMS, transactionCodeConfiguration: { description: 'Sent by SMS' } });
    expect(offer.uri).toMatch(/^openid-credential-offer:\/\/\?credential_offer=/);
    const holder = await holderKey();

    const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, retrieveServerMetadata: true });
    expect(client.version()).toBe(1015); // OpenId4VCIVersion.VER_1_0_15
    expect(client.credentialOffer?.txCode).toEqual({ length: 6, input_mode: 'numeric', description: 'Sent by SMS' });
    expect(client.getCredentialOfferConfigurationIds()).toEqual([configurationId]);
    expect(client.getNonceEndpoint()).toBe(`${issuer.url}/v1/openid/nonce`);
    expect(client.getCredentialsSupported()[configurationId]).toMatchObject({ format: 'dc+sd-jwt', vct: VCT });

    const token = await client.acquireAccessToken({ pin: String(offer.transactionCode) });
    expect(token.token_type).toBe('Bearer');
    // The wallet takes its c_nonce from the nonce endpoint (§7), not the token response.
    const cNonce = await client.acquireNonce();
    expect(cNonce).not.toBe(token.c_nonce);

    const response = await client.acquireCredentials({
      credentialConfigurationId: configurationId,
      format: 'dc+sd-jwt',
      alg: 'ES256',
      jwk: holder.publicJwk as never,
      proofCallbacks: proofCallbacks(holder),
    });
    expect(response.credentials).toHaveLength(1);
    const credential = response.credentials![0]!.credential as string;
    expect(decodeProtectedHeader(credential)).toMatchObject({ typ: 'dc+sd-jwt', alg: 'ES256', x5c: [expect.any(String)] });
    expect(decodeJwt(credential.split('~')[0]!)).toMatchObject({ vct: VCT, cnf: { jwk: { x: holder.publicJwk.x, y: holder.publicJwk.y } } });

    for (const trust of ['jwt-vc-issuer', 'x5c'] as const) {
      const presentation = await present(credential, holder, () => true, VERIFIER);
      expect(await verifyWithMeeco(presentation, trust, VERIFIER)).toMatchObject({
        iss: issuer.url,
        vct: VCT,
        given_name: 'Ada',
        employer: 'Analytical Engines Ltd',
        role: 'Engineer',
        cnf: { jwk: { x: holder.publicJwk.x } },
      });
    }

    // The holder withholds `role`: the verifier sees the rest only; `employer` was never selectively disclosable.
    const partial = await verifyWithMeeco(await present(credential, holder, (name) => name !== 'role', VERIFIER), 'jwt-vc-issuer', VERIFIER);
    expect(partial).toMatchObject({ given_name: 'Ada', employer: 'Analytical Engines Ltd' });
    expect(partial).not.toHaveProperty('role');
    expect(decodeSDJWT(credential).disclosures.map((d) => d.key).sort()).toEqual(['given_name', 'role']);

    // The code is spent: the same wallet cannot redeem it again.
    const again = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, retrieveServerMetadata: true });
    await expect(again.acquireAccessToken({ pin: String(offer.transactionCode) })).rejects.toThrow(/status: 400/);
  });

  it('refuses, through @meeco/sd-jwt, a presentation bound to another key, for another verifier, or with a forged signature', async () => {
    const offer = await issuer.client.createOffer({ credentials: [configurationId], claims: CLAIMS });
    const holder = await holderKey();
    const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, retrieveServerMetadata: true });
    await client.acquireAccessToken();
    const response = await client.acquireCredentials({ credentialConfigurationId: configurationId, format: 'dc+sd-jwt', alg: 'ES256', jwk: holder.publicJwk as never, proofCallbacks: proofCallbacks(holder) });
    const credential = response.credentials![0]!.credential as string;

    await expect(verifyWithMeeco(await present(credential, await holderKey(), () => true, VERIFIER), 'jwt-vc-issuer', VERIFIER)).rejects.toThrow(/Key Binding/);
    await expect(verifyWithMeeco(await present(credential, holder, () => true, { ...VERIFIER, aud: 'https://other.example.com' }), 'jwt-vc-issuer', VERIFIER)).rejects.toThrow(/Key Binding/);
    const [jwt, ...rest] = credential.split('~');
    const [header, payload] = jwt!.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(jwt!), employer: 'Someone Else' })).toString('base64url');
    // Signed by someone else, with a certificate of their own in x5c and the issuer's kid.
    const impostor = await OfflineIaca.create();
    const reSigned = await new SignJWT({ ...decodeJwt(jwt!), employer: 'Someone Else' })
      .setProtectedHeader({ ...decodeProtectedHeader(jwt!), x5c: [Buffer.from(impostor.certificate.rawData).toString('base64')] } as never)
      .sign(impostor.keys.privateKey);
    for (const forged of [`${header}.${forgedPayload}.${jwt!.split('.')[2]}`, `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`, reSigned]) {
      for (const trust of ['jwt-vc-issuer', 'x5c'] as const) {
        await expect(verifyWithMeeco(await present([forged, ...rest].join('~'), holder, () => true, VERIFIER), trust, VERIFIER)).rejects.toThrow(/Failed to verify SD-JWT/);
      }
    }
  });

  it('by reference without a transaction code, over DPoP: the library follows the nonce challenges of the token and credential endpoints', async () => {
    const offer = await issuer.client.createOffer({ credentials: [configurationId], claims: CLAIMS, byReference: true });
    expect(offer.uri).toMatch(/^openid-credential-offer:\/\/\?credential_offer_uri=/);
    const holder = await holderKey();
    const dpopKey = await holderKey();

    const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, resolveOfferUri: true, retrieveServerMetadata: true });
    expect(client.credentialOffer?.preAuthorizedCode).toBe(offer.code);
    expect(client.credentialOffer?.userPinRequired).toBe(false);
    expect(client.endpointMetadata.authorizationServerMetadata?.dpop_signing_alg_values_supported).toEqual(['ES256']);

    // Without a nonce the token endpoint answers use_dpop_nonce with a DPoP-Nonce; the library retries with it.
    const tokenProofs: Record<string, unknown>[] = [];
    const token = await client.acquireAccessToken({ createDPoPOpts: dpopOptions(dpopKey, {}, tokenProofs) });
    expect(token.token_type).toBe('DPoP');
    expect(tokenProofs).toEqual([
      expect.objectContaining({ htm: 'POST', htu: `${issuer.url}/v1/oauth/token` }),
      expect.objectContaining({ htm: 'POST', htu: `${issuer.url}/v1/oauth/token`, nonce: expect.any(String) }),
    ]);
    expect(tokenProofs[0]).not.toHaveProperty('nonce');
    const dpopNonce = token.params?.dpop?.dpopNonce;
    expect(dpopNonce).toEqual(expect.any(String));
    const { rows } = await issuer.database.pool.query<{ dpop_jkt: string }>('SELECT dpop_jkt FROM access_tokens WHERE offer_id = $1', [offer.id]);
    expect(rows.map((row) => row.dpop_jkt)).toEqual([expect.any(String)]);

    // The library's own credential request: credential_configuration_id and a single jwt proof (draft 15).
    const requestClient = CredentialRequestClientBuilderV1_0_15.fromCredentialOffer({ credentialOffer: client.credentialOffer!, metadata: client.endpointMetadata })
      .withCredentialConfigurationId(configurationId)
      .withTokenFromResponse(token)
      .build();
    // The proof as the library's high-level client builds it (aud from the issuer, nonce from the nonce endpoint).
    const proofInput = ProofOfPossessionBuilder.fromAccessTokenResponse({
      accessTokenResponse: { ...token, c_nonce: await client.acquireNonce() },
      callbacks: proofCallbacks(holder),
      version: client.version(),
    })
      .withIssuer(issuer.url)
      .withAlg('ES256')
      .withJWK(holder.publicJwk as never);
    const request = await requestClient.createCredentialRequest({ proofInput, credentialConfigurationId: configurationId, version: client.version() });
    expect(request).toEqual({ credential_configuration_id: configurationId, proof: { proof_type: 'jwt', jwt: expect.any(String) } });

    // A DPoP proof without the server's nonce is challenged (401, use_dpop_nonce); the library retries with the new one.
    const credentialProofs: Record<string, unknown>[] = [];
    const stale = await requestClient.acquireCredentialsUsingRequest(request, 'dc+sd-jwt', dpopOptions(dpopKey, { accessToken: token.access_token }, credentialProofs));
    expect(stale.successBody?.credentials).toHaveLength(1);
    expect(stale.params?.dpop?.dpopNonce).toEqual(expect.any(String));
    const proofFor = { htm: 'POST', htu: `${issuer.url}/v1/openid/credential`, ath: createHash('sha256').update(token.access_token).digest('base64url') };
    expect(credentialProofs).toEqual([expect.objectContaining(proofFor), expect.objectContaining({ ...proofFor, nonce: expect.any(String) })]);
    expect(credentialProofs[0]).not.toHaveProperty('nonce');
    const credential = stale.successBody!.credentials![0]!.credential as string;
    expect(decodeJwt(credential.split('~')[0]!)).toMatchObject({ cnf: { jwk: { x: holder.publicJwk.x } } });
    expect(await verifyWithMeeco(await present(credential, holder, () => true, VERIFIER), 'x5c', VERIFIER)).toMatchObject({ given_name: 'Ada' });

    // Bound to its key: the token with another key's DPoP proof gets nothing.
    const otherKey = await holderKey();
    const stolen = await requestClient.acquireCredentialsUsingRequest(request, 'dc+sd-jwt', dpopOptions(otherKey, { accessToken: token.access_token, nonce: stale.params!.dpop!.dpopNonce }));
    expect(stolen.origResponse.status).toBe(401);
    expect(stolen.errorBody).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('with DPOP=required, the library gets a DPoP-bound token through the high-level client', async () => {
    const strict = await startTestIssuer({ listen: true, databaseUrl: issuer.databaseUrl, env: { DPOP: 'required' } });
    try {
      const offer = await strict.client.createOffer({ credentials: [configurationId], claims: CLAIMS, transactionCodeConfiguration: { inputMode: 'text', length: 8 } });
      const holder = await holderKey();
      const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, retrieveServerMetadata: true });
      // The high-level client first without DPoP: refused, and the code is not consumed by that.
      await expect(client.acquireAccessToken({ pin: String(offer.transactionCode) })).rejects.toThrow(/status: 400/);
      const retry = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, retrieveServerMetadata: true });
      const token = await retry.acquireAccessToken({ pin: String(offer.transactionCode), createDPoPOpts: dpopOptions(holder) });
      expect(token.token_type).toBe('DPoP');
      const response = await retry.acquireCredentials({
        credentialConfigurationId: configurationId,
        format: 'dc+sd-jwt',
        alg: 'ES256',
        jwk: holder.publicJwk as never,
        proofCallbacks: proofCallbacks(holder),
        createDPoPOpts: dpopOptions(holder, { accessToken: token.access_token, nonce: token.params?.dpop?.dpopNonce }),
      });
      expect(response.credentials).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('with OFFER_LEGACY_CREDENTIALS (offers also list `credentials`), the library still reads the offer by its configuration ids', async () => {
    const legacy = await startTestIssuer({ listen: true, databaseUrl: issuer.databaseUrl, env: { OFFER_LEGACY_CREDENTIALS: 'true' } });
    try {
      const offer = await legacy.client.createOffer({ credentials: [configurationId], claims: CLAIMS, byReference: true });
      const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, resolveOfferUri: true, retrieveServerMetadata: true });
      expect(client.credentialOffer?.original_credential_offer).toMatchObject({ credentials: [configurationId], credential_configuration_ids: [configurationId] });
      expect(client.getCredentialOfferConfigurationIds()).toEqual([configurationId]);
      expect((await client.acquireAccessToken()).token_type).toBe('Bearer');
    } finally {
      await legacy.close();
    }
  });

  it('an mDL (mso_mdoc) by reference: the device key is the proof key, and @owf/mdoc verifies it trusting only the IACA', async () => {
    const iaca = await issuer.client.activeIaca();
    const iacaPem = await (await fetch(`${issuer.url}${IACAS}/${iaca.id}/certificate`)).text();
    const mdl = (await issuer.client.createMdocConfiguration(MDL_CONFIGURATION)).id;
    const offer = await issuer.client.createOffer({ credentials: [mdl], claims: MDL_CLAIMS, byReference: true, transactionCodeConfiguration: {} });
    const holder = await holderKey();

    const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: offer.uri, resolveOfferUri: true, retrieveServerMetadata: true });
    expect(client.getCredentialsSupported()[mdl]).toMatchObject({ format: 'mso_mdoc', doctype: MDL_DOCTYPE });
    await client.acquireAccessToken({ pin: String(offer.transactionCode) });
    await client.acquireNonce();
    const response = await client.acquireCredentials({ credentialConfigurationId: mdl, format: 'mso_mdoc', alg: 'ES256', jwk: holder.publicJwk as never, proofCallbacks: proofCallbacks(holder) });
    const credential = response.credentials![0]!.credential as string;

    const verdict = await verifyIssuerSignedWithOwf(credential, iacaPem);
    expect(verdict.failed).toEqual([]);
    expect(verdict.passed).toBeGreaterThan(3);
    const checked = await handCheck(Buffer.from(credential, 'base64url'));
    expect(checked.problems).toEqual([]);
    expect(Buffer.from(checked.deviceKey.get(-2) as Uint8Array).toString('base64url')).toBe(holder.publicJwk.x);
  });
});
