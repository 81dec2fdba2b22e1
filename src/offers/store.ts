import { sql, type Selectable } from 'kysely';
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
  claims: Record<string, unknown>;
  expiresAt: Date;
}

export async function insertOffer(db: Tx, offer: NewOffer): Promise<void> {
  await db
    .insertInto('offers')
    .values({
      id: offer.id,
      code_hash: offer.codeHash,
      tx_code_hash: offer.txCodeHash,
      user_id: offer.userId,
      configuration_ids: offer.configurationIds,
      claims: JSON.stringify(offer.claims),
      expires_at: offer.expiresAt,
      redeemed_at: null,
    })
    .execute();
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
