import { createHash } from 'node:crypto';
import type { SecretKeys } from './secrets.js';

/**
 * How every secret the service hands out is kept in the database: never in clear. Keyed hashes are
 * HMAC-SHA-256 under a key derived from SECRET (an offline guess needs SECRET too), each namespaced by
 * its purpose so that a value of one kind can never match a stored value of another. What is MAC'd
 * or short-lived already, or not secret at all, is stored as a plain SHA-256.
 */
export const storedSecret = {
  /** Management API keys (`vci_…`, 256 bits). */
  apiKey: (secrets: SecretKeys, key: string) => secrets.hash('api-key', key),

  /** Pre-authorized codes (256 bits). */
  preAuthorizedCode: (secrets: SecretKeys, code: string) => secrets.hash('pre-authorized-code', code),

  /**
   * Transaction codes: short, so keyed; and bound to their pre-authorized code, so equal codes of two
   * offers hash differently, and the token endpoint computes both hashes before touching the database.
   */
  transactionCode: (secrets: SecretKeys, preAuthorizedCode: string, txCode: string) => secrets.hash('tx-code', `${preAuthorizedCode}:${txCode}`),

  /** Access tokens (256 bits). */
  accessToken: (secrets: SecretKeys, token: string) => secrets.hash('access-token', token),

  /** Used c_nonces: they carry their own MAC and expiry (see oauth/nonce.ts); the hash only marks them used. */
  usedNonce: (nonce: string) => createHash('sha256').update(nonce).digest(),

  /** Issued credentials, to recognise one later without keeping its claim values. */
  issuedCredential: (credential: string) => createHash('sha256').update(credential).digest('base64url'),
};
