import type { Db, Tx } from '../db/database.js';
import type { Claims } from '../claims/claim-data.js';
import type { User } from './schemas.js';

const toUser = (row: { id: string; claims: Record<string, unknown> }): User => ({ id: row.id, claims: row.claims as Claims });

export async function insertUser(db: Tx, id: string, claims: Claims): Promise<User> {
  const row = await db.insertInto('users').values({ id, claims: JSON.stringify(claims), updated_at: new Date() }).returning(['id', 'claims']).executeTakeFirstOrThrow();
  return toUser(row);
}

export async function getUser(db: Db | Tx, id: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'claims']).where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function replaceUserClaims(db: Tx, id: string, claims: Claims): Promise<User | undefined> {
  const row = await db.updateTable('users').set({ claims: JSON.stringify(claims), updated_at: new Date() }).where('id', '=', id).returning(['id', 'claims']).executeTakeFirst();
  return row && toUser(row);
}

export async function deleteUser(db: Tx, id: string): Promise<boolean> {
  return (await db.deleteFrom('users').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
}

/** Newest first; with `claims`, only users whose claims contain them exactly (jsonb containment, GIN-indexed). */
export async function listUsers(db: Db, page: { limit: number; beforeSeq?: string; claims?: Claims }) {
  let query = db.selectFrom('users').select(['id', 'seq', 'claims']);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  if (page.claims) query = query.where('claims', '@>', JSON.stringify(page.claims) as never);
  const rows = await query.orderBy('seq', 'desc').limit(page.limit + 1).execute();
  return rows.map((row) => ({ ...toUser(row), seq: row.seq }));
}
