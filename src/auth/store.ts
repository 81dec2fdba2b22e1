import type { Db, Tx } from '../db/database.js';
import type { Role } from './roles.js';

/** Cache invalidation topic: a revocation clears every instance's cache of valid keys. */
export const API_KEY_TOPIC = 'api-key';

export interface ApiKeyRow {
  id: string;
  seq: string;
  name: string;
  role: Role;
  created_at: Date;
  revoked_at: Date | null;
}

export async function insertApiKey(db: Db | Tx, key: { id: string; name: string; role: Role; keyHash: Buffer; secretKeyId: string }): Promise<ApiKeyRow> {
  return (await db
    .insertInto('api_keys')
    .values({ id: key.id, name: key.name, role: key.role, key_hash: key.keyHash, secret_key_id: key.secretKeyId, revoked_at: null })
    .returning(['id', 'seq', 'name', 'role', 'created_at', 'revoked_at'])
    .executeTakeFirstOrThrow()) as ApiKeyRow;
}

export interface ActiveApiKey {
  id: string;
  role: Role;
  key_hash: Buffer;
  secret_key_id: string | null;
}

/** The active key whose hash is one of `keyHashes` (the presented key's, under each secret). */
export async function findActiveApiKey(db: Db, keyHashes: Buffer[]): Promise<ActiveApiKey | undefined> {
  return (await db
    .selectFrom('api_keys')
    .select(['id', 'role', 'key_hash', 'secret_key_id'])
    .where('key_hash', 'in', keyHashes)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()) as ActiveApiKey | undefined;
}

/** Replaces a key's hash with one under the current SECRET, unless another instance did first. */
export async function rehashApiKey(db: Db, id: string, from: Buffer, to: { keyHash: Buffer; secretKeyId: string }): Promise<void> {
  await db.updateTable('api_keys').set({ key_hash: to.keyHash, secret_key_id: to.secretKeyId }).where('id', '=', id).where('key_hash', '=', from).execute();
}

export async function listApiKeys(db: Db, page: { limit: number; beforeSeq?: string }): Promise<ApiKeyRow[]> {
  let query = db.selectFrom('api_keys').select(['id', 'seq', 'name', 'role', 'created_at', 'revoked_at']).where('revoked_at', 'is', null);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  return (await query.orderBy('seq', 'desc').limit(page.limit + 1).execute()) as ApiKeyRow[];
}

export async function revokeApiKey(db: Tx, id: string): Promise<boolean> {
  const result = await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function countApiKeys(db: Db): Promise<number> {
  const row = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Admin keys that work: the production start needs one, or ADMIN_API_KEY. */
export async function countActiveAdminKeys(db: Db): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('role', '=', 'admin')
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
