import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import { withinPageBytes } from '../db/pages.js';
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

/**
 * Deletes a user and withdraws their offers: pending and locked ones are revoked, every access token
 * their redemption issued is revoked, and the claim copies the offers kept for issuance are dropped.
 * Undefined when there is no such user; otherwise how many offers were revoked.
 */
export async function deleteUser(db: Tx, id: string): Promise<{ revokedOffers: number } | undefined> {
  const { rows } = await sql<{ deleted: number; revoked: number }>`
    WITH deleted AS (
      DELETE FROM users WHERE id = ${id} RETURNING id
    ), target AS (
      SELECT offers.id, offers.status IN ('pending', 'locked') AS withdrawn FROM offers JOIN deleted ON offers.user_id = deleted.id FOR UPDATE OF offers
    ), offer AS (
      UPDATE offers SET claims = '{}', status = CASE WHEN target.withdrawn THEN 'revoked' ELSE offers.status END
      FROM target WHERE offers.id = target.id
    ), token AS (
      UPDATE access_tokens SET revoked_at = now() WHERE offer_id IN (SELECT id FROM target) AND revoked_at IS NULL
    )
    SELECT (SELECT count(*) FROM deleted)::int AS deleted, (SELECT count(*) FILTER (WHERE withdrawn) FROM target)::int AS revoked`.execute(db);
  return rows[0]!.deleted ? { revokedOffers: rows[0]!.revoked } : undefined;
}

/** Newest first, within PAGE_BYTES; with `claims`, only users whose claims contain them exactly (jsonb containment, GIN-indexed). */
export async function listUsers(db: Db, page: { limit: number; beforeSeq?: string; claims?: Claims }) {
  let query = db.selectFrom('users').select(['id', 'seq', 'claims']);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  if (page.claims) query = query.where('claims', '@>', JSON.stringify(page.claims) as never);
  const { rows, more } = await withinPageBytes(db, query.orderBy('seq', 'desc').limit(page.limit + 1), page.limit);
  return { rows: rows.map((row) => ({ ...toUser(row), seq: row.seq })), more };
}
