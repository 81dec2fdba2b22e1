import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { randomEncoded } from './random.js';

/** A random, URL-safe secret with `bytes` bytes of CSPRNG entropy (16 bytes = 128 bits). */
export function randomSecret(bytes = 32): string {
  return randomEncoded(bytes, 'base64url');
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Everything derived from the server secret: keyed hashes for stored secrets (API keys, codes,
 * transaction codes, tokens) and authenticated encryption for private keys at rest.
 */
export class SecretKeys {
  readonly #hashKey: Buffer;
  readonly #encryptionKey: Buffer;
  readonly #nonceKey: Buffer;

  constructor(secret: string) {
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'vci-issuer', info, 32));
    this.#hashKey = derive('hash');
    this.#encryptionKey = derive('encrypt');
    this.#nonceKey = derive('nonce');
  }

  /** HMAC-SHA-256 of a secret value, namespaced by purpose so that one kind can never match another. */
  hash(purpose: string, value: string): Buffer {
    return createHmac('sha256', this.#hashKey).update(purpose).update('\0').update(value).digest();
  }

  /** MAC for self-describing values such as c_nonces. */
  mac(value: string): Buffer {
    return createHmac('sha256', this.#nonceKey).update(value).digest();
  }

  encrypt(plaintext: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
  }
}

/** Reads a secret kept in a file, creating it (mode 0600) with fresh randomness the first time. */
export async function readOrCreateSecretFile(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, `${randomSecret(32)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await readFile(file, 'utf8')).trim();
}
