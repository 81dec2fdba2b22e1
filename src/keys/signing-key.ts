import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { SecretKeys } from '../crypto/secrets.js';
import type { Db } from '../db/database.js';
import type { InvalidatedCache } from '../db/invalidation.js';
import { withoutTrustAnchor } from './certificates.js';
import { findActiveKey, findKey, type IssuerKeyRow, type PublicJwk } from './store.js';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
  /** For the JOSE `x5c` header: the chain without its trust anchor. */
  x5c: readonly string[];
}

/**
 * The active key, decrypted and imported, ready to sign ES256 JWTs. Each instance keeps a copy (at
 * most 10 s, and dropped when a rotation is announced), so as not to read, decrypt and import it
 * for every credential. A key is made at start (`ensureActiveKey`), never on the request path: no
 * active key here is an error.
 */
export async function loadSigningKey(ctx: { db: Db; secrets: SecretKeys; caches: { signingKey: InvalidatedCache<SigningKey> } }): Promise<SigningKey> {
  const key = await ctx.caches.signingKey.get('active', async () => {
    const row = await findActiveKey(ctx.db);
    return row && signingKeyOf(row, ctx.secrets);
  });
  if (!key) throw new Error('The issuer has no active signing key (it is created at start)');
  return key;
}

/** A key by its kid, active or retired: a status list stays signed by the key that signed its credentials. */
export async function loadKeyByKid(ctx: { db: Db; secrets: SecretKeys }, kid: string): Promise<SigningKey | undefined> {
  const row = await findKey(ctx.db, kid);
  return row && signingKeyOf(row, ctx.secrets);
}

async function signingKeyOf(row: IssuerKeyRow, secrets: SecretKeys): Promise<SigningKey> {
  return Object.freeze({
    kid: row.kid,
    privateKey: createPrivateKey({ key: secrets.decrypt(row.private_key), format: 'der', type: 'pkcs8' }),
    publicJwk: Object.freeze({ ...row.public_jwk }),
    x5c: Object.freeze(await withoutTrustAnchor(row.certificate_chain)),
  });
}
