import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { InvalidatedCache } from '../db/invalidation.js';
import { constantTimeEqual, randomSecret, type SecretKeys } from '../crypto/secrets.js';
import { newRowId } from '../db/ids.js';
import type { Principal, Role } from './roles.js';
import { countApiKeys, findActiveApiKey, insertApiKey } from './store.js';

const KEY_HASH_PURPOSE = 'api-key';
export const ENV_ADMIN_KEY_ID = 'env:ADMIN_API_KEY';

/** 256-bit random API keys with a recognisable prefix (so secret scanners can find leaked ones). */
export function generateApiKey(): string {
  return `vci_${randomSecret(32)}`;
}

export function hashApiKey(secrets: SecretKeys, key: string): Buffer {
  return secrets.hash(KEY_HASH_PURPOSE, key);
}

/** Cache invalidation topic: a revocation clears every instance's cache of valid keys. */
export const API_KEY_TOPIC = 'api-key';

export async function authenticateApiKey(
  deps: { db: Db; secrets: SecretKeys; cache: InvalidatedCache<Principal>; adminApiKeyHash: Buffer | undefined },
  presented: string,
): Promise<Principal | undefined> {
  const hash = hashApiKey(deps.secrets, presented);
  if (deps.adminApiKeyHash && constantTimeEqual(hash, deps.adminApiKeyHash)) return { keyId: ENV_ADMIN_KEY_ID, role: 'admin' };
  // Only valid keys are cached; an unknown key always asks the database.
  return deps.cache.get(hash.toString('base64'), async () => {
    const row = await findActiveApiKey(deps.db, hash);
    return row && { keyId: row.id, role: row.role };
  });
}

/**
 * On first start with no ADMIN_API_KEY and no keys at all, creates an admin key and returns it so
 * that it can be printed once. Returns undefined when nothing was created.
 */
export async function bootstrapAdminKey(deps: { db: Db; secrets: SecretKeys }, name = 'bootstrap admin'): Promise<string | undefined> {
  if ((await countApiKeys(deps.db)) > 0) return undefined;
  const key = generateApiKey();
  // Two instances starting at once on an empty database: the advisory lock lets only one create it.
  const created = await deps.db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(7411902362)`.execute(trx);
    const existing = await trx.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
    if (existing) return false;
    await insertApiKey(trx, { id: newRowId(), name, role: 'admin' satisfies Role, keyHash: hashApiKey(deps.secrets, key) });
    return true;
  });
  return created ? key : undefined;
}
