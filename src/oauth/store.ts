import type pg from 'pg';
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
 * Redeems a pre-authorized code in ONE statement, atomic on its own: the conditional UPDATE takes the
 * offer's row lock, and a concurrent redemption re-checks `status = 'pending'` after it and finds
 * nothing. A wrong transaction code counts a failed attempt (locking the offer for good at the
 * limit) instead of consuming the code. On success the access token and the events are inserted by
 * the same statement; on a wrong transaction code so is the FAIL event.
 * No row back means: unknown, expired, no longer pending, or tx_code presence not as the offer requires.
 */
export async function redeemPreAuthorizedCode(pool: pg.Pool, attempt: RedemptionAttempt): Promise<RedemptionRow | undefined> {
  const { rows } = await pool.query<RedemptionRow>({
    name: 'redeem-pre-authorized-code',
    text: `
      WITH redeemed AS (
        UPDATE offers SET
          status = CASE
            WHEN tx_code_hash IS NULL OR tx_code_hash = $2 THEN 'redeemed'
            WHEN failed_attempts + 1 >= $3 THEN 'locked'
            ELSE 'pending' END,
          failed_attempts = failed_attempts + CASE WHEN tx_code_hash IS NULL OR tx_code_hash = $2 THEN 0 ELSE 1 END,
          redeemed_at = CASE WHEN tx_code_hash IS NULL OR tx_code_hash = $2 THEN now() END
        -- (… = 'pending') IS TRUE: the same test, which no index can serve. Prepared, this statement runs a
        -- cached generic plan; made while offers was small, that plan walked offers_status_seq through every
        -- pending offer, filtering on code_hash, and flows slowed as pending offers piled up.
        WHERE code_hash = $1 AND (status = 'pending') IS TRUE AND expires_at > now()
          AND (tx_code_hash IS NULL) = ($2::bytea IS NULL)
        RETURNING id, status, configuration_ids, user_id, failed_attempts
      ), token AS (
        INSERT INTO access_tokens (id, token_hash, offer_id, configuration_ids, expires_at, dpop_jkt, secret_key_id)
        SELECT $4, $5, id, configuration_ids, now() + make_interval(secs => $6), $10, $11 FROM redeemed WHERE status = 'redeemed'
      ), logged AS (
        SELECT record_events($8, $9, $7, NULL,
          CASE WHEN r.status = 'redeemed' THEN 'SUCCESS' ELSE 'FAIL' END,
          jsonb_build_object('offerId', r.id, 'userId', r.user_id) ||
          CASE WHEN r.status = 'redeemed' THEN jsonb_build_object('accessTokenId', $4::uuid)
               ELSE jsonb_build_object('error', 'invalid_grant', 'reason', 'wrong transaction code', 'failedAttempts', r.failed_attempts, 'locked', r.status = 'locked') END)
        FROM redeemed r
      )
      SELECT id AS offer_id, status, configuration_ids, user_id, failed_attempts, (SELECT count(*) FROM logged) AS logged FROM redeemed`,
    values: [
      attempt.codeHash,
      attempt.txCodeHash,
      attempt.maxAttempts,
      attempt.token.id,
      attempt.token.hash,
      attempt.token.expiresInSeconds,
      attempt.event.audit.requestId,
      attempt.event.kind.type,
      attempt.event.kind.category,
      attempt.token.dpopJkt,
      attempt.token.secretKeyId,
    ],
  });
  return rows[0];
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
