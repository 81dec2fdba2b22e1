import { constantTimeEqual, randomSecret, type SecretKeys } from './secrets.js';
import { storedSecret } from './stored-secrets.js';

/**
 * c_nonces carry their own expiry under a MAC (OID4VCI 1.0 §13.8): issuing one costs no database
 * write, and any instance can check one. Single use is enforced when a credential request consumes
 * it (the used_nonces table, kept until the nonce would have expired anyway).
 *
 * Form: `<expiry epoch seconds>.<128 random bits>.<MAC>`, all base64url/decimal.
 */
export function issueNonce(secrets: SecretKeys, ttlSeconds: number, now = Date.now()): { nonce: string; expiresAt: Date } {
  const expiresAt = new Date(Math.floor(now / 1000) * 1000 + ttlSeconds * 1000);
  const body = `${expiresAt.getTime() / 1000}.${randomSecret(16)}`;
  return { nonce: `${body}.${secrets.mac(body).toString('base64url')}`, expiresAt };
}

export type NonceCheck = { valid: true; expiresAt: Date; hash: Buffer } | { valid: false; reason: string };

export function checkNonce(secrets: SecretKeys, nonce: unknown, now = Date.now()): NonceCheck {
  if (typeof nonce !== 'string' || nonce.length > 200) return { valid: false, reason: 'the proof has no c_nonce' };
  const parts = nonce.split('.');
  if (parts.length !== 3 || !/^\d{1,12}$/.test(parts[0]!)) return { valid: false, reason: 'c_nonce was not issued by this issuer' };
  const body = `${parts[0]}.${parts[1]}`;
  if (!constantTimeEqual(Buffer.from(parts[2]!), Buffer.from(secrets.mac(body).toString('base64url')))) {
    return { valid: false, reason: 'c_nonce was not issued by this issuer' };
  }
  const expiresAt = new Date(Number(parts[0]) * 1000);
  if (expiresAt.getTime() <= now) return { valid: false, reason: 'c_nonce has expired' };
  return { valid: true, expiresAt, hash: storedSecret.usedNonce(nonce) };
}
