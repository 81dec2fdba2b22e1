import { sql, type Selectable } from 'kysely';
import type pg from 'pg';
import { batched } from '../db/batch.js';
import type { Db, Tx } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { AuditContext, EventData, EventKind } from '../events/audit.js';
import type { TxCodeDescription } from './offer-uri.js';
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
  /** The SECRET key id the hashes (and, by reference, the reference and code) were made with. */
  secretKeyId: string;
  userId: string;
  configurationIds: string[];
  /** The merged claims snapshot the credentials will be issued from. */
  claims: Record<string, unknown>;
  expiresAt: Date;
  /** Create the user, add persisted claims to an existing one, or leave the user alone. */
  user: { action: 'insert' | 'merge' | 'none'; claims: Record<string, unknown> };
  /** Offers by reference: the keyed hash of the reference, and the tx_code object the offer shows. */
  reference: { hash: Buffer; txCode: TxCodeDescription | null } | null;
  event: { kind: EventKind; audit: AuditContext; data: EventData };
}

/**
 * Writes offers, their user changes and their events in ONE statement (one round trip, one commit),
 * so each offer of the batch commits exactly when the statement does. The configurations are locked
 * against deletion (KEY SHARE) for its duration; an offer one of whose configurations has gone since
 * it was read is not written, and gets false.
 */
async function insertOffers(pool: pg.Pool, offers: NewOffer[]): Promise<boolean[]> {
  const { rows } = await pool.query<{ id: string }>({
    name: 'insert-offers',
    text: `
      WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::uuid[], $5::text[], $6::jsonb[], $7::timestamptz[],
                             $8::text[], $9::jsonb[], $10::text[], $11::text[], $12::text[], $13::text[], $14::jsonb[],
                             $15::bytea[], $16::jsonb[], $17::text[])
          AS t(id, code_hash, tx_code_hash, user_id, configuration_ids, claims, expires_at,
               user_action, user_claims, event_type, event_category, request_id, actor, event_data, reference_hash, tx_code, secret_key_id)
      ), locked AS (
        SELECT id FROM credential_configurations
        WHERE id = ANY (ARRAY(SELECT unnest(configuration_ids::uuid[]) FROM input)) FOR KEY SHARE
      ), accepted AS (
        SELECT * FROM input WHERE configuration_ids::uuid[] <@ ARRAY(SELECT id FROM locked)
      ), new_user AS (
        INSERT INTO users (id, claims, updated_at)
        SELECT user_id, user_claims, now() FROM accepted WHERE user_action = 'insert'
      ), merged_user AS (
        UPDATE users SET claims = users.claims || accepted.user_claims, updated_at = now()
        FROM accepted WHERE users.id = accepted.user_id AND accepted.user_action = 'merge'
      ), offer AS (
        INSERT INTO offers (id, code_hash, tx_code_hash, user_id, configuration_ids, claims, expires_at, reference_hash, tx_code, secret_key_id)
        SELECT id, code_hash, tx_code_hash, user_id, configuration_ids::uuid[], claims, expires_at, reference_hash, tx_code, secret_key_id FROM accepted
        RETURNING id
      )
      SELECT offer.id, record_events(event_type, event_category, request_id, actor, 'SUCCESS', event_data)
      FROM offer JOIN accepted USING (id)`,
    values: [
      offers.map((offer) => offer.id),
      offers.map((offer) => offer.codeHash),
      offers.map((offer) => offer.txCodeHash),
      offers.map((offer) => offer.userId),
      offers.map((offer) => `{${offer.configurationIds.join(',')}}`),
      offers.map((offer) => JSON.stringify(offer.claims)),
      offers.map((offer) => offer.expiresAt),
      offers.map((offer) => offer.user.action),
      offers.map((offer) => JSON.stringify(offer.user.claims)),
      offers.map((offer) => offer.event.kind.type),
      offers.map((offer) => offer.event.kind.category),
      offers.map((offer) => offer.event.audit.requestId),
      offers.map((offer) => offer.event.audit.actor),
      offers.map((offer) => JSON.stringify(offer.event.data)),
      offers.map((offer) => offer.reference?.hash ?? null),
      offers.map((offer) => (offer.reference?.txCode ? JSON.stringify(offer.reference.txCode) : null)),
      offers.map((offer) => offer.secretKeyId),
    ],
  });
  const written = new Set(rows.map((row) => row.id));
  return offers.map((offer) => written.has(offer.id));
}

export type OfferWriter = (offer: NewOffer) => Promise<boolean>;

/**
 * Writes an offer as {@link insertOffers} does. Offers created at the same moment on this pool share
 * one statement and one commit (see {@link batched}), each still all-or-nothing, unless the offer
 * writes an existing user's row (claims to persist): such an offer is written by a statement of its
 * own, which locks that one user row. A shared statement would lock several in the order its plan
 * meets them, and two such statements could deadlock on each other.
 */
export function createOfferWriter(pool: pg.Pool): OfferWriter {
  const writeShared = batched((offers: NewOffer[]) => insertOffers(pool, offers));
  return async (offer) => (offer.user.action === 'merge' ? (await insertOffers(pool, [offer]))[0]! : writeShared(offer));
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

export interface ReferencedOffer {
  id: string;
  configuration_ids: string[];
  tx_code: TxCodeDescription | null;
}

/** An offer by reference that can still be redeemed (pending, unexpired), by the keyed hash of its reference. Reads only. */
export async function findLiveOfferByReference(pool: pg.Pool, referenceHash: Buffer): Promise<ReferencedOffer | undefined> {
  const { rows } = await pool.query<ReferencedOffer>({
    name: 'find-offer-by-reference',
    // IS TRUE keeps the cached generic plan off offers_status_seq (see redeemPreAuthorizedCode).
    text: `SELECT id, configuration_ids, tx_code FROM offers WHERE reference_hash = $1 AND (status = 'pending') IS TRUE AND expires_at > now()`,
    values: [referenceHash],
  });
  return rows[0];
}

/** How an offer's URL can be made again: its reference's hash (null: made by value) and the SECRET key id it was made with. */
export async function findOfferReference(db: Db, id: string): Promise<{ reference_hash: Buffer | null; secret_key_id: string | null } | undefined> {
  return db.selectFrom('offers').select(['reference_hash', 'secret_key_id']).where('id', '=', id).executeTakeFirst();
}
