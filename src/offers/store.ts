import { sql, type Selectable } from 'kysely';
import type pg from 'pg';
import type { Db, Tx } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Offer, OfferStatus } from './schemas.js';

type Row = Pick<Selectable<Database['offers']>, 'id' | 'user_id' | 'configuration_ids' | 'status' | 'expires_at' | 'created_at' | 'redeemed_at'>;
const columns = ['id', 'seq', 'user_id', 'configuration_ids', 'status', 'expires_at', 'created_at', 'redeemed_at'] as const;

/** `expired` is not stored: a pending offer past its expiry is expired. */
export function toOffer(row: Row, now = new Date()): Offer {
  const status: OfferStatus = row.status === 'pending' && row.expires_at <= now ? 'expired' : row.status;
  return {
    id: row.id,
    userId: row.user_id,
    credentials: row.configuration_ids,
    status,
    expiresAt: row.expires_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    redeemedAt: row.redeemed_at?.toISOString() ?? null,
  };
}

export interface NewOffer {
  id: string;
  codeHash: Buffer;
  txCodeHash: Buffer | null;
  userId: string;
  configurationIds: string[];
  /** The merged claims snapshot the credentials will be issued from. */
  claims: Record<string, unknown>;
  expiresAt: Date;
  /** Create the user, add persisted claims to an existing one, or leave the user alone. */
  user: { action: 'insert' | 'merge' | 'none'; claims: Record<string, unknown> };
  event: { type: string; category: string; requestId: string; actor: string | null; data: Record<string, unknown> };
}

/**
 * Writes an offer, its user changes and its events in ONE statement (one round trip, one commit).
 * The configurations are locked against deletion (KEY SHARE) for its duration; if one has gone
 * since it was read, nothing at all is written and false is returned.
 */
export async function insertOffer(pool: pg.Pool, offer: NewOffer): Promise<boolean> {
  const { rows } = await pool.query<{ created: number }>({
    name: 'insert-offer',
    text: `
      WITH locked AS (
        SELECT id FROM credential_configurations WHERE id = ANY ($1::uuid[]) FOR KEY SHARE
      ), complete AS (
        SELECT count(*) = cardinality($1::uuid[]) AS ok FROM locked
      ), new_user AS (
        INSERT INTO users (id, claims, updated_at)
        SELECT $2, $3::jsonb, now() FROM complete WHERE ok AND $4 = 'insert'
      ), merged_user AS (
        UPDATE users SET claims = users.claims || $3::jsonb, updated_at = now()
        WHERE id = $2 AND $4 = 'merge' AND (SELECT ok FROM complete)
      ), offer AS (
        INSERT INTO offers (id, code_hash, tx_code_hash, user_id, configuration_ids, claims, expires_at)
        SELECT $5, $6, $7, $2, $1, $8::jsonb, $9 FROM complete WHERE ok
        RETURNING id
      ), logged AS (
        SELECT record_events($10, $11, $12, $13, 'SUCCESS', $14::jsonb) FROM offer
      )
      SELECT (SELECT count(*) FROM offer)::int + (SELECT count(*) FROM logged)::int AS created`,
    values: [
      offer.configurationIds,
      offer.userId,
      JSON.stringify(offer.user.claims),
      offer.user.action,
      offer.id,
      offer.codeHash,
      offer.txCodeHash,
      JSON.stringify(offer.claims),
      offer.expiresAt,
      offer.event.type,
      offer.event.category,
      offer.event.requestId,
      offer.event.actor,
      JSON.stringify(offer.event.data),
    ],
  });
  return rows[0]!.created === 2;
}

export async function getOffer(db: Db, id: string): Promise<Offer | undefined> {
  const row = await db.selectFrom('offers').select(columns).where('id', '=', id).executeTakeFirst();
  return row && toOffer(row);
}

export async function listOffers(db: Db, filter: { limit: number; beforeSeq?: string; status?: OfferStatus; userId?: string }) {
  let query = db.selectFrom('offers').select(columns);
  if (filter.beforeSeq) query = query.where('seq', '<', filter.beforeSeq);
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  if (filter.status === 'pending') query = query.where('status', '=', 'pending').where('expires_at', '>', sql<Date>`now()`);
  else if (filter.status === 'expired') query = query.where('status', '=', 'pending').where('expires_at', '<=', sql<Date>`now()`);
  else if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('seq', 'desc').limit(filter.limit + 1).execute();
}

/**
 * Revokes a pending or locked offer and any access token its redemption issued, so nothing more can
 * be obtained with it. Returns false when no such offer exists.
 */
export async function revokeOffer(db: Tx, id: string): Promise<boolean> {
  const row = await db.selectFrom('offers').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) return false;
  await db.updateTable('offers').set({ status: 'revoked' }).where('id', '=', id).where('status', 'in', ['pending', 'locked']).execute();
  await db.updateTable('access_tokens').set({ revoked_at: sql`now()` }).where('offer_id', '=', id).where('revoked_at', 'is', null).execute();
  return true;
}
