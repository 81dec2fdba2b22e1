import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROOF_TYP } from '../../src/protocol.js';
import { credentialRequest, draft13CredentialRequest } from '../support/client.js';
import { expectDocumentedRejection, expectHealthy, stateFingerprint } from '../support/hostile.js';
import { handmadeJws, hostileProofCorpus, nowSeconds, proofHeader } from '../support/hostile-proofs.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { holderKey, proofJwt, type HolderKey } from '../support/wallet.js';

// Hostile key proofs at the credential endpoint, over Fastify's HTTP stack and a real PostgreSQL:
// each is refused with invalid_proof or invalid_nonce in the OAuth shape, nothing is written (no
// credential, no consumed nonce, the token still unused), and the service stays healthy.

const PUBLIC_URL = 'https://issuer.example.com';
const VCT = 'https://credentials.example.com/test';

let issuer: TestIssuer;
let configurationId: string;
let holder: HolderKey;
let other: HolderKey;
let token: string;
let nonce: string;

beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL });
  configurationId = (await issuer.client.createConfiguration()).id;
  [holder, other] = await Promise.all([holderKey(), holderKey()]);
});
afterAll(() => issuer.close());

/** Each test gets a wallet session of its own: an unused access token and an unused c_nonce. */
beforeEach(async () => {
  ({ token } = await issuer.client.startSession({ credentials: [configurationId] }));
  nonce = await issuer.client.nonce();
});

const request10 = (...jwts: string[]) => credentialRequest(configurationId, jwts);
const requestDraft13 = (jwt: string) => draft13CredentialRequest(VCT, jwt);
const post = (body: unknown, accessToken = token) => issuer.client.requestCredential(accessToken, body);

describe('a corpus of hostile key proofs', () => {
  it('each is refused with its error in the OAuth shape, in 1.0 and draft 13 requests, alone or in a batch, writing nothing', async () => {
    const corpus = await hostileProofCorpus({ holder, other, nonce, aud: PUBLIC_URL, secrets: issuer.secrets });
    // A c_nonce already spent by a successful request of another wallet.
    const spent = await issuer.client.nonce();
    const { token: elsewhereToken } = await issuer.client.startSession({ credentials: [configurationId] });
    expect((await post(request10(await proofJwt(holder, { aud: PUBLIC_URL, nonce: spent })), elsewhereToken)).statusCode).toBe(200);
    corpus.push({ name: 'nonce already used', jwt: await proofJwt(holder, { aud: PUBLIC_URL, nonce: spent }), error: 'invalid_nonce' });
    const valid = await proofJwt(holder, { aud: PUBLIC_URL, nonce });
    // A batch binds each credential to a key of its own: the valid proof beside a hostile one has its own key.
    const validBeside = await proofJwt(await holderKey(), { aud: PUBLIC_URL, nonce });

    const before = await stateFingerprint(issuer);
    for (const { name, jwt, error } of corpus) {
      for (const [dialect, body] of [
        ['1.0', request10(jwt)],
        ['draft 13', requestDraft13(jwt)],
        ['1.0 batch, after a valid proof', request10(validBeside, jwt)],
      ] as const) {
        const response = await post(body);
        expectDocumentedRejection('wallet', response, `${name} (${dialect})`);
        // Draft 13 has no invalid_nonce: a nonce problem is an invalid proof there (§7.3.1.2).
        const expected = dialect === 'draft 13' && error === 'invalid_nonce' ? 'invalid_proof' : error;
        expect(response.json().error, `${name} (${dialect}): ${response.body}`).toBe(expected);
      }
    }
    expect(await stateFingerprint(issuer)).toEqual(before);
    await expectHealthy(issuer);
    // The same token and nonce still buy exactly one credential (for another key: none).
    expect((await post(request10(valid))).statusCode).toBe(200);
    expect((await post(request10(await proofJwt(await holderKey(), { aud: PUBLIC_URL, nonce: await issuer.client.nonce() })))).statusCode).toBe(400);
  });
});

describe('generated hostile key proofs', () => {
  /** One rule broken per mutation; 1–3 mutations per proof, then re-signed by the holder unless the signature itself is the mutation. */
  type Mutation = { header?: Record<string, unknown>; drop?: string[]; payload?: Record<string, unknown>; dropClaims?: string[]; signature?: (signature: string) => string; other?: boolean };
  const notProofTyp = fc.string({ maxLength: 30 }).filter((typ) => typ !== PROOF_TYP);
  const badAlg = fc.oneof(fc.constantFrom('none', 'None', 'HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'es256', ''), fc.string({ maxLength: 10 }).filter((alg) => alg !== 'ES256'));
  const anyJson = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
  const privateMember = fc.tuple(fc.constantFrom('d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'), fc.string({ minLength: 1, maxLength: 60 }));
  const oldOrFuture = () => fc.oneof(fc.integer({ min: 0, max: nowSeconds() - 400 }), fc.integer({ min: nowSeconds() + 130, max: 2 ** 40 }));
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    notProofTyp.map((typ) => ({ header: { typ } })),
    badAlg.map((alg) => ({ header: { alg } })),
    fc.constantFrom<Mutation>({ drop: ['typ'] }, { drop: ['alg'] }, { drop: ['jwk'] }, { dropClaims: ['aud'] }, { dropClaims: ['iat'] }, { dropClaims: ['nonce'] }, { other: true }),
    privateMember.map(([member, value]) => ({ header: { jwk: { ...holder.publicJwk, [member]: value } } })),
    fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 4 }).map((jwk) => ({ header: { jwk } })),
    fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }).map((crit) => ({ header: { crit } })),
    fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 })).filter((aud) => aud !== PUBLIC_URL).map((aud) => ({ payload: { aud } })),
    fc.array(fc.webUrl(), { minLength: 1, maxLength: 3 }).map((aud) => ({ payload: { aud } })),
    fc.oneof(oldOrFuture(), fc.string({ maxLength: 12 }), fc.constant(null), fc.boolean()).map((iat) => ({ payload: { iat } })),
    fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })).map((value) => ({ payload: { nonce: value } })),
    fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 80 }).map((bytes) => () => Buffer.from(bytes).toString('base64url')),
      fc.integer({ min: 0, max: 63 }).map((i) => (signature: string) => Buffer.from(Buffer.from(signature, 'base64url').map((byte, j) => (j === i ? byte ^ 0x80 : byte))).toString('base64url')),
      fc.constant((signature: string) => `${signature}!`),
    ).map((signature) => ({ signature })),
  );

  it('never yield a credential, a write, or anything but invalid_proof / invalid_nonce', async () => {
    const before = await stateFingerprint(issuer);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (mutations, draft13) => {
        const header: Record<string, unknown> = proofHeader(holder);
        const payload: Record<string, unknown> = { aud: PUBLIC_URL, iat: nowSeconds(), nonce };
        let signer = holder;
        const signatureChanges: ((signature: string) => string)[] = [];
        for (const m of mutations) {
          Object.assign(header, m.header);
          Object.assign(payload, m.payload);
          for (const key of m.drop ?? []) delete header[key];
          for (const key of m.dropClaims ?? []) delete payload[key];
          if (m.other) signer = other;
          if (m.signature) signatureChanges.push(m.signature);
        }
        const [head, body, signature] = (await handmadeJws(header, payload, signer)).split('.') as [string, string, string];
        let changed = signatureChanges.reduce((s, change) => change(s), signature);
        // Two flips of the same bit cancel out: a signature the mutations left whole is broken once more.
        if (signatureChanges.length > 0 && changed === signature) changed = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
        const jwt = `${head}.${body}.${changed}`;
        const response = await post(draft13 ? requestDraft13(jwt) : request10(jwt));
        const label = JSON.stringify({ header, payload, signatureChanged: signatureChanges.length > 0 }).slice(0, 600);
        expectDocumentedRejection('wallet', response, label);
        expect(['invalid_proof', 'invalid_nonce'], `${label}: ${response.body}`).toContain(response.json().error);
      }),
      { numRuns: 150 },
    );
    expect(await stateFingerprint(issuer)).toEqual(before);
    await expectHealthy(issuer);
    // The token and the nonce that every generated proof carried are still unused.
    const response = await post(request10(await proofJwt(holder, { aud: PUBLIC_URL, nonce })));
    expect(response.statusCode, response.body).toBe(200);
  });
});
