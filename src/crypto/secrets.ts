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

/** Sealed values made since key ids: this marker, the key id (8 bytes), then IV, tag and ciphertext. */
const SEALED_WITH_KEY_ID = Buffer.from([0xff, 0x01]);
const KEY_ID_BYTES = 8;

/**
 * Everything derived from the server secret: keyed hashes for stored secrets (API keys, codes,
 * transaction codes, tokens) and authenticated encryption for private keys at rest.
 *
 * While SECRET is rotated, the keys of SECRET_PREVIOUS are `previous`: values stored under it are
 * still found (lookups try `all`, the current keys first) and opened, and new ones use the current
 * keys. Each stored value records the `keyId` it was made with; values from before key ids have none
 * and were made with whichever secret was current then, so both are tried.
 */
export class SecretKeys {
  /** A fingerprint of the secret (not secret itself: HKDF output of its own purpose). */
  readonly keyId: string;
  /** The keys of SECRET_PREVIOUS, while rotating. */
  readonly previous: SecretKeys | undefined;
  /** The current keys, then the previous ones: the order every lookup tries them in. */
  readonly all: readonly SecretKeys[];
  readonly #hashKey: Buffer;
  readonly #encryptionKey: Buffer;
  readonly #nonceKey: Buffer;
  readonly #keyIdBytes: Buffer;

  constructor(secret: string, previousSecret?: string) {
    const derive = (info: string, length = 32) => Buffer.from(hkdfSync('sha256', secret, 'vci-issuer', info, length));
    this.#hashKey = derive('hash');
    this.#encryptionKey = derive('encrypt');
    this.#nonceKey = derive('nonce');
    this.#keyIdBytes = derive('key-id', KEY_ID_BYTES);
    this.keyId = this.#keyIdBytes.toString('base64url');
    this.previous = previousSecret === undefined ? undefined : new SecretKeys(previousSecret);
    this.all = this.previous ? [this, this.previous] : [this];
  }

  /** Whether a value stored with `keyId` was made with the current secret (key ids are fingerprints, not secrets). */
  isCurrent(keyId: string | null): boolean {
    return keyId === this.keyId;
  }

  /** The keys a value stored with `keyId` was made with: that one, or for a value from before key ids (null) all of them. */
  keysFor(keyId: string | null): readonly SecretKeys[] {
    if (keyId === null) return this.all;
    return this.all.filter((keys) => keys.keyId === keyId);
  }

  /** HMAC-SHA-256 of a secret value, namespaced by purpose so that one kind can never match another. */
  hash(purpose: string, value: string): Buffer {
    return createHmac('sha256', this.#hashKey).update(purpose).update('\0').update(value).digest();
  }

  /** MAC for self-describing values such as c_nonces. */
  mac(value: string): Buffer {
    return createHmac('sha256', this.#nonceKey).update(value).digest();
  }

  /** Seals under the current secret, recording its key id. */
  encrypt(plaintext: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([SEALED_WITH_KEY_ID, this.#keyIdBytes, iv, cipher.getAuthTag(), body]);
  }

  /** Opens a value sealed under the current or the previous secret; throws SecretUnknownError under any other. */
  decrypt(sealed: Buffer): Buffer {
    return this.#open(sealed).plaintext;
  }

  /**
   * The value sealed again under the current secret when it was sealed under the previous one;
   * undefined when the current secret opens it already. Throws SecretUnknownError when neither does.
   */
  reseal(sealed: Buffer): Buffer | undefined {
    const { plaintext, keys } = this.#open(sealed);
    return keys === this ? undefined : this.encrypt(plaintext);
  }

  #open(sealed: Buffer): { plaintext: Buffer; keys: SecretKeys } {
    const marked = sealed.length > 2 + KEY_ID_BYTES + 28 && constantTimeEqual(sealed.subarray(0, 2), SEALED_WITH_KEY_ID);
    if (marked) {
      const keyId = sealed.subarray(2, 2 + KEY_ID_BYTES);
      const keys = this.all.find((candidate) => constantTimeEqual(candidate.#keyIdBytes, keyId));
      const plaintext = keys && keys.#openWithKey(sealed.subarray(2 + KEY_ID_BYTES));
      if (keys && plaintext) return { plaintext, keys };
    }
    // From before key ids (a random IV may start like the marker, too): whichever secret opens it.
    for (const keys of this.all) {
      const plaintext = keys.#openWithKey(sealed);
      if (plaintext) return { plaintext, keys };
    }
    throw new SecretUnknownError(marked ? sealed.subarray(2, 2 + KEY_ID_BYTES).toString('base64url') : null);
  }

  #openWithKey(sealed: Buffer): Buffer | undefined {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}

/** A value sealed under a secret that is neither SECRET nor SECRET_PREVIOUS. */
export class SecretUnknownError extends Error {
  constructor(readonly keyId: string | null) {
    super(`sealed under a secret that is neither SECRET nor SECRET_PREVIOUS${keyId ? ` (key id ${keyId})` : ''}`);
  }
}

/**
 * After SECRET was rotated: seals again under SECRET each of `rows`' sealed values (`sealedOf`) that
 * was sealed under SECRET_PREVIOUS, through `replace` (a compare-and-set: an instance that got there
 * first wins, with the same result). Throws SecretUnknownError for a value neither secret opens.
 * Returns how many.
 */
export async function resealEach<T>(
  secrets: SecretKeys,
  rows: T[],
  sealedOf: (row: T) => Buffer,
  replace: (row: T, sealed: Buffer) => Promise<void>,
): Promise<number> {
  const resealed = rows.flatMap((row) => {
    const sealed = secrets.reseal(sealedOf(row));
    return sealed ? [{ row, sealed }] : [];
  });
  for (const { row, sealed } of resealed) await replace(row, sealed);
  return resealed.length;
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
