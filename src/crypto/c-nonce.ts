import { constantTimeEqual, randomSecret, type SecretKeys } from './secrets.js';
import { storedSecret } from './stored-secrets.js';

/**
 * Nonces this server hands out carry their own expiry under a MAC (OID4VCI 1.0 §13.8, RFC 9449 §8):
 * issuing one costs no database write, and any instance can check one. A nonce is made for one
 * purpose (a c_nonce for key proofs, a DPoP-Nonce), and is never accepted for the other. Single use,
 * where it applies, is enforced where the nonce is consumed (c_nonces: the used_nonces table).
 *
 * Form: `<expiry epoch seconds>.<128 random bits>.<MAC>`, all base64url/decimal.
 */
export type NoncePurpose = 'c_nonce' | 'dpop';

const macInput = (purpose: NoncePurpose, body: string) => (purpose === 'c_nonce' ? body : `${purpose}:${body}`);

export function issueNonce(secrets: SecretKeys, ttlSeconds: number, now = Date.now(), purpose: NoncePurpose = 'c_nonce'): { nonce: string; expiresAt: Date } {
  const expiresAt = new Date(Math.floor(now / 1000) * 1000 + ttlSeconds * 1000);
  const body = `${expiresAt.getTime() / 1000}.${randomSecret(16)}`;
  return { nonce: `${body}.${secrets.mac(macInput(purpose, body)).toString('base64url')}`, expiresAt };
}

export type NonceCheck = { valid: true; expiresAt: Date; hash: Buffer } | { valid: false; missing: boolean; reason: string };

export function checkNonce(secrets: SecretKeys, nonce: unknown, now = Date.now(), purpose: NoncePurpose = 'c_nonce'): NonceCheck {
  const name = purpose === 'c_nonce' ? 'c_nonce' : 'DPoP nonce';
  if (nonce === undefined) return { valid: false, missing: true, reason: `no ${name}` };
  if (typeof nonce !== 'string' || nonce.length > 200) return { valid: false, missing: false, reason: `the ${name} was not issued by this issuer` };
  const parts = nonce.split('.');
  if (parts.length !== 3 || !/^\d{1,12}$/.test(parts[0]!)) return { valid: false, missing: false, reason: `the ${name} was not issued by this issuer` };
  const body = `${parts[0]}.${parts[1]}`;
  const presented = Buffer.from(parts[2]!);
  // Under SECRET, or (issued before it was rotated) SECRET_PREVIOUS: a second MAC only then.
  if (!secrets.all.some((keys) => constantTimeEqual(presented, Buffer.from(keys.mac(macInput(purpose, body)).toString('base64url'))))) {
    return { valid: false, missing: false, reason: `the ${name} was not issued by this issuer` };
  }
  const expiresAt = new Date(Number(parts[0]) * 1000);
  if (expiresAt.getTime() <= now) return { valid: false, missing: false, reason: `the ${name} has expired` };
  return { valid: true, expiresAt, hash: storedSecret.usedNonce(nonce) };
}
