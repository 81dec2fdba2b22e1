import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkNonce, issueNonce } from './c-nonce.js';
import { SecretKeys, SecretUnknownError, resealEach } from './secrets.js';

const A = 'unit-secret-A-0123456789-abcdefghijklmnopqrstuvwxyz';
const B = 'unit-secret-B-0123456789-abcdefghijklmnopqrstuvwxyz';
const plaintext = Buffer.from('a PKCS#8 private key, say');

/** Sealed as before key ids: IV, tag, ciphertext. */
function sealedWithoutKeyId(secret: string, iv = randomBytes(12)): Buffer {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(hkdfSync('sha256', secret, 'vci-issuer', 'encrypt', 32)), iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

describe('SecretKeys while SECRET is rotated', () => {
  it('has a key id per secret, stable across instances, revealing nothing of the hash key', () => {
    expect(new SecretKeys(A).keyId).toBe(new SecretKeys(A).keyId);
    expect(new SecretKeys(A).keyId).not.toBe(new SecretKeys(B).keyId);
    expect(new SecretKeys(A).keyId).toMatch(/^[\w-]{11}$/);
    expect(new SecretKeys(B, A).previous?.keyId).toBe(new SecretKeys(A).keyId);
    expect(new SecretKeys(B).all).toHaveLength(1);
  });

  it('hashes under the current secret; the previous one only when asked', () => {
    const rotated = new SecretKeys(B, A);
    expect(rotated.hash('api-key', 'k').equals(new SecretKeys(B).hash('api-key', 'k'))).toBe(true);
    expect(rotated.all.map((keys) => keys.hash('api-key', 'k').toString('hex'))).toEqual([B, A].map((s) => new SecretKeys(s).hash('api-key', 'k').toString('hex')));
  });

  it('keysFor: a stored key id names its keys; none (from before key ids) means every one; an unknown one, none', () => {
    const rotated = new SecretKeys(B, A);
    expect(rotated.keysFor(rotated.keyId)).toEqual([rotated]);
    expect(rotated.keysFor(rotated.previous!.keyId)).toEqual([rotated.previous]);
    expect(rotated.keysFor(null)).toEqual(rotated.all);
    expect(rotated.keysFor(new SecretKeys('x'.repeat(32)).keyId)).toEqual([]);
  });

  it('opens values sealed under the previous secret, with or without a key id, and seals new ones under the current', () => {
    const rotated = new SecretKeys(B, A);
    expect(rotated.decrypt(new SecretKeys(A).encrypt(plaintext))).toEqual(plaintext);
    expect(rotated.decrypt(sealedWithoutKeyId(A))).toEqual(plaintext);
    expect(rotated.decrypt(sealedWithoutKeyId(B))).toEqual(plaintext);
    expect(new SecretKeys(B).decrypt(rotated.encrypt(plaintext))).toEqual(plaintext);
    // A value from before key ids whose random IV happens to start like the marker still opens.
    expect(rotated.decrypt(sealedWithoutKeyId(A, Buffer.concat([Buffer.from([0xff, 0x01]), randomBytes(10)])))).toEqual(plaintext);
  });

  it('names the key id when no known secret opens a value, and throws for a value that was tampered with', () => {
    const sealedA = new SecretKeys(A).encrypt(plaintext);
    expect(() => new SecretKeys(B).decrypt(sealedA)).toThrow(new SecretUnknownError(new SecretKeys(A).keyId));
    expect(() => new SecretKeys(B).decrypt(sealedWithoutKeyId(A))).toThrow(SecretUnknownError);
    const tampered = Buffer.from(sealedA);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => new SecretKeys(A).decrypt(tampered)).toThrow(SecretUnknownError);
  });

  it('reseals what only the previous secret opens, and leaves what the current one opens', async () => {
    const rotated = new SecretKeys(B, A);
    const rows = [{ private_key: new SecretKeys(A).encrypt(plaintext) }, { private_key: sealedWithoutKeyId(A) }, { private_key: sealedWithoutKeyId(B) }, { private_key: rotated.encrypt(plaintext) }];
    const replaced: Buffer[] = [];
    expect(await resealEach(rotated, rows, (row) => row.private_key, async (_row, sealed) => void replaced.push(sealed))).toBe(2);
    for (const sealed of replaced) expect(new SecretKeys(B).decrypt(sealed)).toEqual(plaintext);
    await expect(resealEach(new SecretKeys(B), [{ private_key: new SecretKeys(A).encrypt(plaintext) }], (row) => row.private_key, async () => {})).rejects.toThrow(SecretUnknownError);
  });

  it('accepts c_nonces issued under the previous secret, and no longer once it is dropped', () => {
    const nonce = issueNonce(new SecretKeys(A), 300).nonce;
    expect(checkNonce(new SecretKeys(B, A), nonce).valid).toBe(true);
    expect(checkNonce(new SecretKeys(B), nonce)).toMatchObject({ valid: false, reason: 'the c_nonce was not issued by this issuer' });
    expect(checkNonce(new SecretKeys(B, A), issueNonce(new SecretKeys(B), 300).nonce).valid).toBe(true);
  });
});
