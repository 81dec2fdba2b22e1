import type pg from 'pg';
import { batched } from '../db/batch.js';
import type { AuditContext, EventKind } from '../events/audit.js';

export interface RedemptionAttempt {
  codeHash: Buffer;
  /** null when the request carried no tx_code */
  txCodeHash: Buffer | null;
  maxAttempts: number;
  /** `dpopJkt`: the token is DPoP-bound to this key thumbprint (RFC 9449 §6). */
  token: { id: string; hash: Buffer; secretKeyId: string; expiresInSeconds: number; dpopJkt: string | null };
  event: { kind: EventKind; audit: AuditContext };
}

export interface RedemptionRow {
  offer_id: string;
  status: 'pending' | 'redeemed' | 'locked';
  configuration_ids: string[];
  user_id: string;
  failed_attempts: number;
}

/**
 * Redeems pre-authorized codes in ONE statement, each atomic on its own: the conditional UPDATE takes
 * the offer's row lock, and a concurrent redemption re-checks `status = 'pending'` after it and finds
 * nothing. A wrong transaction code counts a failed attempt (locking the offer for good at the
 * limit) instead of consuming the code. On success the access token and the events are inserted by
 * the same statement; on a wrong transaction code so is the FAIL event. One result per attempt, in
 * order; undefined means: unknown, expired, no longer pending, or tx_code presence not as the offer
 * requires.
 */
export async function redeemPreAuthorizedCodes(pool: pg.Pool, attempts: RedemptionAttempt[]): Promise<(RedemptionRow | undefined)[]> {
  const { rows } = await pool.query<RedemptionRow & { n: string; logged: string }>({
    name: 'redeem-pre-authorized-codes',
    text: `
      WITH input AS (
        SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int[], $4::uuid[], $5::bytea[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
          WITH ORDINALITY AS i(code_hash, tx_code_hash, max_attempts, token_id, token_hash, token_expires_in, request_id, event_type, event_category, dpop_jkt, secret_key_id, n)
      ), redeemed AS (
        UPDATE offers o SET
          status = CASE
            WHEN o.tx_code_hash IS NULL OR o.tx_code_hash = i.tx_code_hash THEN 'redeemed'
            WHEN o.failed_attempts + 1 >= i.max_attempts THEN 'locked'
            ELSE 'pending' END,
          failed_attempts = o.failed_attempts + CASE WHEN o.tx_code_hash IS NULL OR o.tx_code_hash = i.tx_code_hash THEN 0 ELSE 1 END,
          redeemed_at = CASE WHEN o.tx_code_hash IS NULL OR o.tx_code_hash = i.tx_code_hash THEN now() END
        FROM input i
        -- Prepared, this statement runs a cached generic plan, made with whatever statistics offers had
        -- then. code_hash = ANY ($1), implied by the join, is there so that even a plan made while offers
        -- was small finds the offers by the unique code_hash index rather than scanning them;
        -- (… = 'pending') IS TRUE is the same test as = 'pending', which no index can serve: such a plan
        -- once walked offers_status_seq through every pending offer, and flows slowed as offers piled up.
        WHERE o.code_hash = ANY ($1) AND o.code_hash = i.code_hash AND (o.status = 'pending') IS TRUE AND o.expires_at > now()
          AND (o.tx_code_hash IS NULL) = (i.tx_code_hash IS NULL)
        RETURNING i.*, o.id AS offer_id, o.status, o.configuration_ids, o.user_id, o.failed_attempts
      ), token AS (
        INSERT INTO access_tokens (id, token_hash, offer_id, configuration_ids, expires_at, dpop_jkt, secret_key_id)
        SELECT token_id, token_hash, offer_id, configuration_ids, now() + make_interval(secs => token_expires_in), dpop_jkt, secret_key_id
        FROM redeemed WHERE status = 'redeemed'
      ), logged AS (
        SELECT record_events(r.event_type, r.event_category, r.request_id, NULL,
          CASE WHEN r.status = 'redeemed' THEN 'SUCCESS' ELSE 'FAIL' END,
          jsonb_build_object('offerId', r.offer_id, 'userId', r.user_id) ||
          CASE WHEN r.status = 'redeemed' THEN jsonb_build_object('accessTokenId', r.token_id)
               ELSE jsonb_build_object('error', 'invalid_grant', 'reason', 'wrong transaction code', 'failedAttempts', r.failed_attempts, 'locked', r.status = 'locked') END)
        FROM redeemed r
      )
      SELECT n, offer_id, status, configuration_ids, user_id, failed_attempts, (SELECT count(*) FROM logged) AS logged FROM redeemed`,
    values: [
      attempts.map((a) => a.codeHash),
      attempts.map((a) => a.txCodeHash),
      attempts.map((a) => a.maxAttempts),
      attempts.map((a) => a.token.id),
      attempts.map((a) => a.token.hash),
      attempts.map((a) => a.token.expiresInSeconds),
      attempts.map((a) => a.event.audit.requestId),
      attempts.map((a) => a.event.kind.type),
      attempts.map((a) => a.event.kind.category),
      attempts.map((a) => a.token.dpopJkt),
      attempts.map((a) => a.token.secretKeyId),
    ],
  });
  const byOrdinal = new Map(rows.map(({ n, logged: _, ...row }) => [Number(n), row]));
  return attempts.map((_, index) => byOrdinal.get(index + 1));
}

export type Redeemer = (attempt: RedemptionAttempt) => Promise<RedemptionRow | undefined>;

/**
 * Redeems as {@link redeemPreAuthorizedCodes} does. Redemptions made at the same moment on this pool
 * share one statement and one commit (see {@link batched}); the same code never twice in one
 * statement, so a replay racing the first redemption meets it as a separate request would.
 */
export function createRedeemer(pool: pg.Pool): Redeemer {
  return batched((attempts: RedemptionAttempt[]) => redeemPreAuthorizedCodes(pool, attempts), { keyOf: (attempt) => attempt.codeHash.toString('base64') });
}

export interface OfferState {
  id: string;
  status: 'pending' | 'redeemed' | 'revoked' | 'locked';
  expired: boolean;
  tx_code_required: boolean;
  /** The request knew the transaction code, or the offer has none. */
  tx_code_known: boolean;
}

/** Why a redemption found nothing to redeem (the cold path). */
export async function findOfferByCode(pool: pg.Pool, codeHash: Buffer, txCodeHash: Buffer | null): Promise<OfferState | undefined> {
  const { rows } = await pool.query<OfferState>(
    `SELECT id, status, expires_at <= now() AS expired, tx_code_hash IS NOT NULL AS tx_code_required,
            tx_code_hash IS NULL OR (tx_code_hash = $2) IS TRUE AS tx_code_known
     FROM offers WHERE code_hash = $1`,
    [codeHash, txCodeHash],
  );
  return rows[0];
}

/** A replayed code has leaked: revoke what its first redemption issued (RFC 6749 §4.1.2, by analogy). */
export async function revokeTokensOfOffer(pool: pg.Pool, offerId: string): Promise<number> {
  const result = await pool.query('UPDATE access_tokens SET revoked_at = now() WHERE offer_id = $1 AND revoked_at IS NULL', [offerId]);
  return result.rowCount ?? 0;
}

/**
 * Marks a DPoP proof as seen; false when it was seen before (RFC 9449 §11.1: a proof is accepted
 * once). The primary key makes this hold across instances.
 */
export async function consumeDpopProof(pool: pg.Pool, replay: { hash: Buffer; expiresAt: Date }): Promise<boolean> {
  const { rowCount } = await pool.query({
    name: 'consume-dpop-proof',
    text: 'INSERT INTO used_dpop_proofs (proof_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    values: [replay.hash, replay.expiresAt],
  });
  return rowCount === 1;
}
