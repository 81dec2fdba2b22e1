import { describe, expect, it } from 'vitest';
import { checkNonce, issueNonce } from './c-nonce.js';
import { SecretKeys } from './secrets.js';
import { storedSecret } from './stored-secrets.js';

const secrets = new SecretKeys('unit-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz');
const NOW = Date.parse('2025-06-15T12:00:00.750Z');

describe('c_nonce', () => {
  it('carries its expiry (whole seconds from now + ttl), 128 random bits and a MAC', () => {
    const { nonce, expiresAt } = issueNonce(secrets, 300, NOW);
    expect(expiresAt.toISOString()).toBe('2025-06-15T12:05:00.000Z');
    const [expiry, random, mac] = nonce.split('.');
    expect(Number(expiry)).toBe(expiresAt.getTime() / 1000);
    expect(Buffer.from(random!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(mac!, 'base64url')).toHaveLength(32);
    expect(issueNonce(secrets, 300, NOW).nonce).not.toBe(nonce);
  });

  it('checks as valid until its expiry, with the hash that marks it used', () => {
    const { nonce, expiresAt } = issueNonce(secrets, 300, NOW);
    const check = checkNonce(secrets, nonce, expiresAt.getTime() - 1);
    expect(check).toEqual({ valid: true, expiresAt, hash: storedSecret.usedNonce(nonce) });
    expect(checkNonce(secrets, nonce, expiresAt.getTime())).toEqual({ valid: false, missing: false, reason: 'the c_nonce has expired' });
  });

  it('is refused when another secret made it, or any part was changed', () => {
    const { nonce } = issueNonce(secrets, 300, NOW);
    const [expiry, random, mac] = nonce.split('.') as [string, string, string];
    const notOurs = { valid: false, missing: false, reason: 'the c_nonce was not issued by this issuer' };
    expect(checkNonce(new SecretKeys('another-secret-0123456789-abcdefghijklmnopqrstuvwxyz'), nonce, NOW)).toEqual(notOurs);
    expect(checkNonce(secrets, `${Number(expiry) + 3600}.${random}.${mac}`, NOW)).toEqual(notOurs);
    expect(checkNonce(secrets, `${expiry}.${random.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}.${mac}`, NOW)).toEqual(notOurs);
    expect(checkNonce(secrets, `${expiry}.${random}.${mac.slice(1)}`, NOW)).toEqual(notOurs);
  });

  it('is refused when it is not a string of three parts with a decimal expiry', () => {
    const { nonce } = issueNonce(secrets, 300, NOW);
    const [expiry, random, mac] = nonce.split('.') as [string, string, string];
    expect(checkNonce(secrets, undefined, NOW)).toEqual({ valid: false, missing: true, reason: 'no c_nonce' });
    const notOurs = { valid: false, missing: false, reason: 'the c_nonce was not issued by this issuer' };
    expect(checkNonce(secrets, 12345, NOW)).toEqual(notOurs);
    expect(checkNonce(secrets, `${nonce}${'x'.repeat(200)}`, NOW)).toEqual(notOurs);
    for (const malformed of [`${expiry}.${random}`, `${nonce}.x`, `x${expiry}.${random}.${mac}`, '']) {
      expect(checkNonce(secrets, malformed, NOW), malformed).toEqual(notOurs);
    }
  });

  it('made for one purpose is refused for the other: a DPoP nonce is no c_nonce, and the other way round', () => {
    const { nonce: cNonce } = issueNonce(secrets, 300, NOW);
    const { nonce: dpopNonce } = issueNonce(secrets, 300, NOW, 'dpop');
    expect(checkNonce(secrets, dpopNonce, NOW).valid).toBe(false);
    expect(checkNonce(secrets, cNonce, NOW, 'dpop').valid).toBe(false);
    expect(checkNonce(secrets, dpopNonce, NOW, 'dpop').valid).toBe(true);
  });
});
