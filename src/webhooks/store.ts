import { sql } from 'kysely';
import type pg from 'pg';
import type { Db, Tx } from '../db/database.js';
import { OFFER_EXPIRY_EVENT } from './events.js';

export interface WebhookRow {
  id: string;
  seq: string;
  url: string;
  events: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const WEBHOOK_COLUMNS = ['id', 'seq', 'url', 'events', 'disabled', 'created_at', 'updated_at'] as const;

export async function insertWebhook(db: Tx, webhook: { id: string; url: string; events: string[]; disabled: boolean; secret: Buffer }): Promise<WebhookRow> {
  return db.insertInto('webhooks').values({ ...webhook, updated_at: new Date() }).returning(WEBHOOK_COLUMNS).executeTakeFirstOrThrow();
}

export async function replaceWebhook(db: Tx, id: string, webhook: { url: string; events: string[]; disabled: boolean }): Promise<WebhookRow | undefined> {
  return db.updateTable('webhooks').set({ ...webhook, updated_at: new Date() }).where('id', '=', id).returning(WEBHOOK_COLUMNS).executeTakeFirst();
}

/** Deletes a webhook and its delivery log; what was still pending is never sent. */
export async function deleteWebhook(db: Tx, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
  if (!deleted.numDeletedRows) return false;
  await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  return true;
}

export async function findWebhook(db: Db | Tx, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function listWebhooks(db: Db, page: { limit: number; beforeSeq?: string }): Promise<WebhookRow[]> {
  let query = db.selectFrom('webhooks').select(WEBHOOK_COLUMNS);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  return query.orderBy('seq', 'desc').limit(page.limit + 1).execute();
}

const DELIVERY_COLUMNS = [
  'id',
  'seq',
  'webhook_id',
  'event_id',
  'event_type',
  'payload',
  'status',
  'attempts',
  'next_attempt_at',
  'created_at',
  'last_attempt_at',
  'last_response_status',
  'last_error',
  'delivered_at',
] as const;

export async function listDeliveries(db: Db, page: { webhookId: string; limit: number; beforeSeq?: string }) {
  let query = db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('webhook_id', '=', page.webhookId);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  return query.orderBy('seq', 'desc').limit(page.limit + 1).execute();
}
export type DeliveryRow = Awaited<ReturnType<typeof listDeliveries>>[number];

/**
 * Makes a delivery that was delivered or failed due again, as new: its retries start over, and it
 * keeps its id (a receiver that has it already knows it is the same message). Undefined when there
 * is no such delivery; the row as it was when it is still pending (being retried).
 */
export async function requeueDelivery(db: Tx, id: string): Promise<{ requeued: boolean; row: DeliveryRow } | undefined> {
  const current = await db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!current) return undefined;
  if (current.status === 'pending') return { requeued: false, row: current };
  const row = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: sql`now()`, retry_from: sql`now()`, lease: null, delivered_at: null })
    .where('id', '=', id)
    .returning(DELIVERY_COLUMNS)
    .executeTakeFirstOrThrow();
  return { requeued: true, row };
}

export interface ClaimedDelivery {
  id: string;
  webhook_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  attempts: number;
  retry_from: Date;
  lease: string;
  /** null when the webhook was deleted while the delivery was being enqueued. */
  url: string | null;
  secret: Buffer | null;
}

/**
 * Claims up to `limit` due deliveries of enabled webhooks for this instance: SKIP LOCKED lets
 * instances claim side by side without waiting for or taking each other's rows, and the lease
 * (next_attempt_at pushed `leaseSeconds` ahead) keeps the claimed rows from every other instance
 * once this statement has committed, until this instance records the outcome or the lease runs out
 * (the instance died: the delivery is attempted again).
 */
export async function claimDueDeliveries(pool: pg.Pool, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  const { rows } = await pool.query<ClaimedDelivery>({
    name: 'claim-webhook-deliveries',
    text: `
      WITH due AS (
        SELECT d.id FROM webhook_deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (w.id IS NULL OR NOT w.disabled)
        ORDER BY d.next_attempt_at
        LIMIT $1
        FOR UPDATE OF d SKIP LOCKED
      ), claimed AS (
        UPDATE webhook_deliveries d
        SET next_attempt_at = now() + make_interval(secs => $2), attempts = d.attempts + 1, last_attempt_at = now(), lease = gen_random_uuid()
        FROM due WHERE d.id = due.id
        RETURNING d.id, d.webhook_id, d.event_type, d.payload, d.attempts, d.retry_from, d.lease
      )
      SELECT claimed.*, w.url, w.secret FROM claimed LEFT JOIN webhooks w ON w.id = claimed.webhook_id`,
    values: [limit, leaseSeconds],
  });
  return rows;
}

export type AttemptOutcome =
  | { kind: 'delivered'; responseStatus: number }
  | { kind: 'retry'; responseStatus: number | null; error: string; delaySeconds: number }
  | { kind: 'failed'; responseStatus: number | null; error: string }
  | { kind: 'dropped' };

/** Records what became of a claimed attempt, if this claim still holds the delivery's lease. */
export async function recordAttempt(pool: pg.Pool, delivery: { id: string; lease: string }, outcome: AttemptOutcome): Promise<boolean> {
  if (outcome.kind === 'dropped') {
    const result = await pool.query('DELETE FROM webhook_deliveries WHERE id = $1 AND lease = $2', [delivery.id, delivery.lease]);
    return result.rowCount === 1;
  }
  const result = await pool.query(
    `UPDATE webhook_deliveries SET
       status = $3,
       next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $4) ELSE next_attempt_at END,
       last_response_status = $5, last_error = $6,
       delivered_at = CASE WHEN $3 = 'delivered' THEN now() END,
       lease = NULL
     WHERE id = $1 AND lease = $2 AND status = 'pending'`,
    [
      delivery.id,
      delivery.lease,
      outcome.kind === 'retry' ? 'pending' : outcome.kind,
      outcome.kind === 'retry' ? outcome.delaySeconds : 0,
      outcome.responseStatus,
      outcome.kind === 'delivered' ? null : outcome.error,
    ],
  );
  return result.rowCount === 1;
}

/**
 * Records OPENID_PRE_AUTHORIZED_OFFER_EXPIRE for each offer still pending whose expiry passed since
 * the last scan, in one transaction with moving the scan's mark; the events feed the webhooks like
 * any other. One instance at a time (the others skip). A scan takes the expiries from the mark up to
 * `sliceSeconds` past the next one (so that a scan after a long pause stays small) or now, and
 * writes nothing when no offer expired in that time. Returns how many it recorded and whether it
 * reached now, or undefined when another instance was scanning.
 * An offer committed after the scan passed its expiry is missed: that needs a transaction slower
 * than the offer's whole lifetime (at least a second).
 */
export async function recordOfferExpiries(pool: pg.Pool, sliceSeconds: number): Promise<{ recorded: number; caughtUp: boolean } | undefined> {
  const { rows } = await pool.query<{ recorded: number; caught_up: boolean }>({
    name: 'record-offer-expiries',
    text: `
      WITH mark AS (
        SELECT s.scanned_until,
               least(now(), (SELECT min(expires_at) FROM offers WHERE expires_at > s.scanned_until) + make_interval(secs => $1)) AS until
        FROM offer_expiry_scan s FOR UPDATE SKIP LOCKED
      ), expiring AS (
        SELECT o.id, o.user_id, o.expires_at, o.status FROM offers o, mark
        WHERE o.expires_at > mark.scanned_until AND o.expires_at <= mark.until
      ), logged AS (
        SELECT record_events($2, $3, NULL, NULL, 'SUCCESS',
          jsonb_build_object('offerId', id, 'userId', user_id, 'expiresAt', to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        FROM expiring WHERE status = 'pending'
      ), moved AS (
        UPDATE offer_expiry_scan s SET scanned_until = mark.until FROM mark WHERE EXISTS (SELECT 1 FROM expiring) RETURNING s.scanned_until
      )
      SELECT (SELECT count(*) FROM logged)::int AS recorded, coalesce((SELECT scanned_until >= now() FROM moved), true) AS caught_up
      FROM mark`,
    values: [sliceSeconds, OFFER_EXPIRY_EVENT.type, OFFER_EXPIRY_EVENT.category],
  });
  return rows[0] && { recorded: rows[0].recorded, caughtUp: rows[0].caught_up };
}

/** Every webhook's sealed signing secret (for sealing them again under a new SECRET). */
export async function listSealedWebhookSecrets(db: Db): Promise<{ id: string; secret: Buffer }[]> {
  return db.selectFrom('webhooks').select(['id', 'secret']).execute();
}

/** Replaces a sealed signing secret, unless it changed since it was read. */
export async function replaceSealedWebhookSecret(db: Db, id: string, from: Buffer, to: Buffer): Promise<void> {
  await db.updateTable('webhooks').set({ secret: to }).where('id', '=', id).where('secret', '=', from).execute();
}
