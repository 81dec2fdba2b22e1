import { createHmac, webcrypto } from 'node:crypto';
import { exportJWK, exportSPKI, importJWK, type JWK } from 'jose';
import { SecretKeys } from '../../src/crypto/secrets.js';
import { issueNonce } from '../../src/crypto/c-nonce.js';
import { PROOF_TYP } from '../../src/protocol.js';
import { proofJwt, type HolderKey } from './wallet.js';

// Key proofs that must be refused, made by hand so that any header, payload or signature is possible.

export const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A compact JWS with any header and payload, signed ES256 by `signer`, or with an empty signature. */
export async function handmadeJws(header: Record<string, unknown>, payload: Record<string, unknown>, signer?: HolderKey): Promise<string> {
  const input = `${b64json(header)}.${b64json(payload)}`;
  if (!signer) return `${input}.`;
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer.privateKey as webcrypto.CryptoKey, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

export const proofHeader = (key: HolderKey) => ({ alg: 'ES256', typ: PROOF_TYP, jwk: key.publicJwk });

export interface HostileProof {
  name: string;
  jwt: string;
  /** The OpenID4VCI error it must get. */
  error: 'invalid_proof' | 'invalid_nonce';
}

/**
 * One proof for each way a key proof can be wrong (OID4VCI 1.0 §8.2.1.1, F.1): each bends exactly
 * one rule of an otherwise valid proof by `holder` for `nonce` and `aud`. `secrets` are the issuer's
 * (to make a genuine but expired c_nonce).
 */
export async function hostileProofCorpus(options: { holder: HolderKey; other: HolderKey; nonce: string; aud: string; secrets: SecretKeys }): Promise<HostileProof[]> {
  const { holder, other, nonce, aud, secrets } = options;
  const payload = () => ({ aud, iat: nowSeconds(), nonce });
  const header = () => proofHeader(holder);
  const pem = await exportSPKI((await importJWK(holder.publicJwk, 'ES256')) as Parameters<typeof exportSPKI>[0]);
  const privateJwk: JWK = await exportJWK(holder.privateKey);
  const hmac = (key: string | Buffer, alg = 'HS256') => {
    const input = `${b64json({ ...header(), alg })}.${b64json(payload())}`;
    return `${input}.${createHmac(alg === 'HS512' ? 'sha512' : 'sha256', key).update(input).digest('base64url')}`;
  };
  const valid = await handmadeJws(header(), payload(), holder);
  const [validHeader, validPayload, validSignature] = valid.split('.') as [string, string, string];
  const [expiry, random, mac] = nonce.split('.');
  const proof = (name: string, jwt: string, error: HostileProof['error'] = 'invalid_proof'): HostileProof => ({ name, jwt, error });

  return [
    // typ
    proof('wrong typ', await handmadeJws({ ...header(), typ: 'JWT' }, payload(), holder)),
    proof('typ with an application/ prefix', await handmadeJws({ ...header(), typ: `application/${PROOF_TYP}` }, payload(), holder)),
    proof('typ of a credential', await handmadeJws({ ...header(), typ: 'dc+sd-jwt' }, payload(), holder)),
    proof('no typ', await handmadeJws({ alg: 'ES256', jwk: holder.publicJwk }, payload(), holder)),
    // alg
    proof('alg none, no signature', await handmadeJws({ ...header(), alg: 'none' }, payload())),
    proof('alg none with the real signature', `${b64json({ ...header(), alg: 'none' })}.${validPayload}.${validSignature}`),
    proof('alg "None"', await handmadeJws({ ...header(), alg: 'None' }, payload())),
    proof('HS256 keyed with the public key (PEM)', hmac(pem)),
    proof('HS256 keyed with the public JWK', hmac(JSON.stringify(holder.publicJwk))),
    proof('HS512 keyed with the x coordinate', hmac(Buffer.from(holder.publicJwk.x!, 'base64url'), 'HS512')),
    proof('RS256 named, ES256 signed', await handmadeJws({ ...header(), alg: 'RS256' }, payload(), holder)),
    proof('ES384 named, ES256 signed', await handmadeJws({ ...header(), alg: 'ES384' }, payload(), holder)),
    proof('no alg', await handmadeJws({ typ: PROOF_TYP, jwk: holder.publicJwk }, payload(), holder)),
    // jwk
    proof('jwk with the private d', await proofJwt(holder, { aud, nonce }, { jwk: privateJwk })),
    proof('jwk with RSA private members', await handmadeJws({ ...header(), jwk: { ...holder.publicJwk, p: 'AQAB', q: 'AQAB', dp: 'AQAB', dq: 'AQAB', qi: 'AQAB' } }, payload(), holder)),
    proof('symmetric jwk (kty oct, k)', await handmadeJws({ ...header(), jwk: { kty: 'oct', k: 'c2VjcmV0' } }, payload(), holder)),
    proof('jwk of another curve', await handmadeJws({ ...header(), jwk: { ...holder.publicJwk, crv: 'P-384' } }, payload(), holder)),
    proof('jwk without y', await handmadeJws({ ...header(), jwk: { kty: 'EC', crv: 'P-256', x: holder.publicJwk.x } }, payload(), holder)),
    proof('jwk as a string', await handmadeJws({ ...header(), jwk: JSON.stringify(holder.publicJwk) }, payload(), holder)),
    proof('jwk of a point not on the curve', await handmadeJws({ ...header(), jwk: { ...holder.publicJwk, y: holder.publicJwk.x } }, payload(), holder)),
    proof('no jwk', await handmadeJws({ alg: 'ES256', typ: PROOF_TYP }, payload(), holder)),
    proof('kid instead of jwk', await handmadeJws({ alg: 'ES256', typ: PROOF_TYP, kid: 'did:example:wallet#0' }, payload(), holder)),
    // key and signature
    proof('signed by another key than the jwk header', await handmadeJws(header(), payload(), other)),
    proof('jwk of another key, signed by the holder', await handmadeJws(proofHeader(other), payload(), holder)),
    // Another payload for sure: the signed one's iat minus one (not "now", which may have ticked to match).
    proof('signature of another payload', `${validHeader}.${b64json({ ...JSON.parse(Buffer.from(validPayload, 'base64url').toString()), iat: JSON.parse(Buffer.from(validPayload, 'base64url').toString()).iat - 1 })}.${validSignature}`),
    proof('signature truncated', `${validHeader}.${validPayload}.${validSignature.slice(0, 40)}`),
    proof('signature with a bit flipped', `${validHeader}.${validPayload}.${Buffer.from(Buffer.from(validSignature, 'base64url').map((byte, i) => (i === 5 ? byte ^ 1 : byte))).toString('base64url')}`),
    proof('empty signature', `${validHeader}.${validPayload}.`),
    proof('four segments', `${valid}.${validSignature}`),
    proof('JWE-like five segments', `${validHeader}..${validPayload}.${validSignature}.x`),
    // aud
    proof('wrong aud', await proofJwt(holder, { aud: 'https://other.example.com', nonce })),
    proof('aud with a trailing slash', await proofJwt(holder, { aud: `${aud}/`, nonce })),
    proof('aud an array without the issuer', await handmadeJws(header(), { ...payload(), aud: ['https://other.example.com'] }, holder)),
    proof('no aud', await handmadeJws(header(), { iat: nowSeconds(), nonce }, holder)),
    // iat and other times
    proof('no iat', await handmadeJws(header(), { aud, nonce }, holder)),
    proof('iat expired (older than the window plus skew)', await proofJwt(holder, { aud, nonce, iat: nowSeconds() - 300 - 60 - 30 })),
    proof('iat in the future beyond the clock skew', await proofJwt(holder, { aud, nonce, iat: nowSeconds() + 60 + 60 })),
    proof('iat as a string', await handmadeJws(header(), { ...payload(), iat: String(nowSeconds()) }, holder)),
    proof('exp in the past', await handmadeJws(header(), { ...payload(), exp: nowSeconds() - 120 }, holder)),
    proof('nbf in the future', await handmadeJws(header(), { ...payload(), nbf: nowSeconds() + 600 }, holder)),
    // crit and size
    proof('crit header', await handmadeJws({ ...header(), crit: ['x-wallet'], 'x-wallet': true }, payload(), holder)),
    proof('crit b64=false', await handmadeJws({ ...header(), crit: ['b64'], b64: false }, payload(), holder)),
    proof('empty crit', await handmadeJws({ ...header(), crit: [] }, payload(), holder)),
    proof('oversized header', await proofJwt(holder, { aud, nonce }, { 'x-padding': 'a'.repeat(10_000) })),
    proof('huge jwk member', await handmadeJws({ ...header(), jwk: { ...holder.publicJwk, x: 'A'.repeat(9000) } }, payload(), holder)),
    // nonce
    // §8.3.1.2: without the nonce the issuer asks for, the proof itself is invalid.
    proof('nonce missing', await proofJwt(holder, { aud }), 'invalid_proof'),
    proof('nonce not issued by this issuer', await proofJwt(holder, { aud, nonce: 'some-nonce' }), 'invalid_nonce'),
    proof('nonce forged with another secret', await proofJwt(holder, { aud, nonce: issueNonce(new SecretKeys('another-secret-0123456789-abcdefghijklmnopqrstuvwxyz'), 300).nonce }), 'invalid_nonce'),
    proof('nonce expiry tampered with', await proofJwt(holder, { aud, nonce: `${Number(expiry) + 3600}.${random}.${mac}` }), 'invalid_nonce'),
    proof('nonce expired', await proofJwt(holder, { aud, nonce: issueNonce(secrets, 300, Date.now() - 600_000).nonce }), 'invalid_nonce'),
    proof('nonce as a number', await handmadeJws(header(), { ...payload(), nonce: 12345 }, holder), 'invalid_nonce'),
    proof('nonce as an array', await handmadeJws(header(), { ...payload(), nonce: [nonce] }, holder), 'invalid_nonce'),
  ];
}
