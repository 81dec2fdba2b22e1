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

  /** The references of offers by reference (the last part of their URL). */
  offerReference: (secrets: SecretKeys, reference: string) => secrets.hash('offer-reference', reference),

  /** Issued credentials, to recognise one later without keeping its claim values. */
  issuedCredential: (credential: string) => createHash('sha256').update(credential).digest('base64url'),
};

/**
 * The secrets of an offer by reference, derived from its id under SECRET rather than drawn at random,
 * so that the service can make its URL (and QR code) again while storing neither: the reference
 * (the last part of its URL) and the pre-authorized code it serves. Each is 256 bits.
 */
export const offerByReference = {
  reference: (secrets: SecretKeys, offerId: string) => secrets.hash('derive:offer-reference', offerId).toString('base64url'),
  code: (secrets: SecretKeys, offerId: string) => secrets.hash('derive:offer-code', offerId).toString('base64url'),
};
