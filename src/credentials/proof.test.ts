import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { PROOF_TYP } from '../protocol.js';
import { verifyProof } from './proof.js';

// One valid key proof, then each rule of OID4VCI 1.0 §8.2.1.1 / Appendix F.1 bent on its own. Every
// refusal is checked by its message, so a rule that stops being enforced fails its own test.

const AUDIENCE = 'https://issuer.example.com';
const NOW = new Date('2025-06-15T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const OPTIONS = { audience: AUDIENCE, maxAgeSeconds: 300, clockSkewSeconds: 60, now: NOW };

interface Key {
  privateKey: KeyObject;
  jwk: { kty: string; crv: string; x: string; y: string };
}

function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as Key['jwk'];
  return { privateKey, jwk: { kty, crv, x, y } };
}

const holder = newKey();
const other = newKey();
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS over any header and payload, ES256-signed by `signer`. */
function jws(header: Record<string, unknown>, payload: Record<string, unknown>, signer: Key = holder): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const header = (changes: Record<string, unknown> = {}) => ({ typ: PROOF_TYP, alg: 'ES256', jwk: holder.jwk, ...changes });
const payload = (changes: Record<string, unknown> = {}) => ({ aud: AUDIENCE, iat: NOW_SECONDS, nonce: 'the-nonce', ...changes });
const without = (value: Record<string, unknown>, name: string) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== name));

async function expectRefused(jwt: string, description: RegExp) {
  await expect(verifyProof(jwt, OPTIONS)).rejects.toMatchObject({ error: 'invalid_proof', description: expect.stringMatching(description) });
}

describe('verifyProof', () => {
  it('accepts a valid proof and returns the public key, its RFC 7638 thumbprint and the nonce', async () => {
    const verified = await verifyProof(jws(header(), payload()), OPTIONS);
    expect(verified).toEqual({ jwk: holder.jwk, thumbprint: await calculateJwkThumbprint(holder.jwk), nonce: 'the-nonce' });
  });

  it('accepts aud as an array that holds the issuer, and leaves the nonce for the caller to check', async () => {
    expect((await verifyProof(jws(header(), payload({ aud: ['https://other.example.com', AUDIENCE] })), OPTIONS)).jwk).toEqual(holder.jwk);
    expect((await verifyProof(jws(header(), without(payload(), 'nonce')), OPTIONS)).nonce).toBeUndefined();
  });

  it('refuses anything but a compact JWS of base64url parts within the size limit', async () => {
    const valid = jws(header(), payload());
    await expectRefused(`${valid}.extra`, /compact JWS/);
    await expectRefused(valid.split('.').slice(0, 2).join('.'), /compact JWS/);
    await expectRefused(valid.replace('.', '+.'), /compact JWS/);
    await expectRefused(jws(header({ padding: 'a'.repeat(9000) }), payload()), /too large/);
    await expectRefused(`${b64([1, 2])}.${b64(payload())}.AAAA`, /header is not a JSON object/);
  });

  it('typ: must be openid4vci-proof+jwt', async () => {
    await expectRefused(jws(header({ typ: 'JWT' }), payload()), /typ/);
    await expectRefused(jws(header({ typ: `application/${PROOF_TYP}` }), payload()), /typ/);
    await expectRefused(jws(without(header(), 'typ'), payload()), /typ/);
  });

  it('alg: must be ES256, whatever the signature', async () => {
    for (const alg of ['none', 'HS256', 'ES384', 'RS256', 'es256']) await expectRefused(jws(header({ alg }), payload()), /alg/);
    await expectRefused(jws(without(header(), 'alg'), payload()), /alg/);
  });

  it('crit: any crit header is refused, even an empty one', async () => {
    await expectRefused(jws(header({ crit: ['x-wallet'], 'x-wallet': true }), payload()), /crit/);
    await expectRefused(jws(header({ crit: [] }), payload()), /crit/);
  });

  it('jwk: private key members are refused', async () => {
    const { d } = holder.privateKey.export({ format: 'jwk' });
    await expectRefused(jws(header({ jwk: { ...holder.jwk, d } }), payload()), /private key material/);
    for (const member of ['p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) await expectRefused(jws(header({ jwk: { ...holder.jwk, [member]: 'AQAB' } }), payload()), /private key material/);
  });

  it('jwk: a P-256 public key is required', async () => {
    await expectRefused(jws(without(header(), 'jwk'), payload()), /jwk header/);
    await expectRefused(jws(header({ jwk: JSON.stringify(holder.jwk) }), payload()), /jwk header/);
    await expectRefused(jws(header({ jwk: { ...holder.jwk, crv: 'P-384' } }), payload()), /P-256/);
    await expectRefused(jws(header({ jwk: { kty: 'EC', crv: 'P-256', x: holder.jwk.x } }), payload()), /P-256/);
    // On the curve or not: a point made of the x coordinate twice is not a key.
    await expectRefused(jws(header({ jwk: { ...holder.jwk, y: holder.jwk.x } }), payload()), /P-256 public key/);
  });

  it('jwk: it alone names the key (no kid, x5c or trust_chain beside it)', async () => {
    for (const member of ['kid', 'x5c', 'trust_chain']) await expectRefused(jws(header({ [member]: member === 'kid' ? 'key-1' : ['MIIB'] }), payload()), new RegExp(`jwk alone.*${member}`));
  });

  it('jwk: x and y are 32 bytes in canonical unpadded base64url', async () => {
    const { x } = holder.jwk;
    for (const value of [`${x}=`, Buffer.from(x, 'base64url').toString('base64'), x.slice(0, -1), `${x}A`]) {
      await expectRefused(jws(header({ jwk: { ...holder.jwk, x: value } }), payload()), /P-256/);
    }
  });

  it('signature: made by the jwk of the header, over this header and payload', async () => {
    const valid = jws(header(), payload());
    const [head, body, signature] = valid.split('.') as [string, string, string];
    await expectRefused(jws(header(), payload(), other), /signature/);
    await expectRefused(jws(header({ jwk: other.jwk }), payload()), /signature/);
    await expectRefused(`${head}.${b64(payload({ iat: NOW_SECONDS - 1 }))}.${signature}`, /signature/);
    const flipped = Buffer.from(signature, 'base64url');
    flipped[5]! ^= 1;
    await expectRefused(`${head}.${body}.${flipped.toString('base64url')}`, /signature/);
    await expectRefused(`${head}.${body}.${signature.slice(0, 40)}`, /signature/);
    await expectRefused(`${head}.${body}.`, /signature/);
  });

  it('aud: must name the Credential Issuer Identifier exactly', async () => {
    await expectRefused(jws(header(), payload({ aud: 'https://other.example.com' })), /aud/);
    await expectRefused(jws(header(), payload({ aud: `${AUDIENCE}/` })), /aud/);
    await expectRefused(jws(header(), payload({ aud: ['https://other.example.com'] })), /aud/);
    await expectRefused(jws(header(), without(payload(), 'aud')), /aud/);
  });

  it('iat: a number within maxAge in the past and the clock skew in the future, both ends included', async () => {
    for (const iat of [NOW_SECONDS - 300 - 60, NOW_SECONDS + 60]) expect((await verifyProof(jws(header(), payload({ iat })), OPTIONS)).jwk).toEqual(holder.jwk);
    await expectRefused(jws(header(), payload({ iat: NOW_SECONDS - 300 - 61 })), /too old/);
    await expectRefused(jws(header(), payload({ iat: NOW_SECONDS + 61 })), /future/);
    await expectRefused(jws(header(), payload({ iat: String(NOW_SECONDS) })), /numeric iat/);
    await expectRefused(jws(header(), without(payload(), 'iat')), /numeric iat/);
  });

  it('exp and nbf: optional, but when present they must hold now, give or take the clock skew', async () => {
    expect((await verifyProof(jws(header(), payload({ exp: NOW_SECONDS - 59, nbf: NOW_SECONDS + 60 })), OPTIONS)).jwk).toEqual(holder.jwk);
    await expectRefused(jws(header(), payload({ exp: NOW_SECONDS - 60 })), /expired/);
    await expectRefused(jws(header(), payload({ exp: String(NOW_SECONDS + 600) })), /expired/);
    await expectRefused(jws(header(), payload({ nbf: NOW_SECONDS + 61 })), /not yet valid/);
    await expectRefused(jws(header(), payload({ nbf: 'soon' })), /not yet valid/);
  });
});
