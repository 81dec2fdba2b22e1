import type pg from 'pg';
import type { EventContext } from '../events/record.js';

export interface AccessTokenGrant {
  id: string;
  offer_id: string;
  user_id: string;
  configuration_ids: string[];
  issued_configuration_ids: string[];
  claims: Record<string, unknown>;
  expired: boolean;
  revoked: boolean;
}

/** The access token and what its offer grants, in one query. */
export async function findAccessToken(pool: pg.Pool, tokenHash: Buffer): Promise<AccessTokenGrant | undefined> {
  const { rows } = await pool.query<AccessTokenGrant>({
    name: 'find-access-token',
    text: `SELECT t.id, t.offer_id, o.user_id, t.configuration_ids, t.issued_configuration_ids, o.claims,
                  t.expires_at <= now() AS expired, t.revoked_at IS NOT NULL AS revoked
           FROM access_tokens t JOIN offers o ON o.id = t.offer_id
           WHERE t.token_hash = $1`,
    values: [tokenHash],
  });
  return rows[0];
}

export interface Issuance {
  accessTokenId: string;
  offerId: string;
  userId: string;
  configurationId: string;
  nonces: { hash: Buffer; expiresAt: Date }[];
  credentials: { id: string; holderKeyThumbprint: string; hash: string; issuerKid: string; expiresAt: Date | null }[];
  event: EventContext;
}

export type IssuanceOutcome = 'issued' | 'nonce-used' | 'denied';

/**
 * Records an issuance atomically: consumes the c_nonces, marks the configuration as issued on the
 * access token (at most once: the conditional UPDATE serialises concurrent requests on the token's
 * row), stores one row per credential and the events. Anything short of all of it rolls back.
 */
export async function recordIssuance(pool: pg.Pool, issuance: Issuance): Promise<IssuanceOutcome> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ fresh_nonces: string; token_updated: string }>({
      name: 'record-issuance',
      text: `
        WITH nonce AS (
          INSERT INTO used_nonces (nonce_hash, expires_at)
          SELECT * FROM unnest($1::bytea[], $2::timestamptz[])
          ON CONFLICT DO NOTHING
          RETURNING 1
        ), token AS (
          UPDATE access_tokens SET issued_configuration_ids = array_append(issued_configuration_ids, $3::uuid)
          WHERE id = $4 AND revoked_at IS NULL AND expires_at > now() AND NOT ($3::uuid = ANY (issued_configuration_ids))
            AND (SELECT count(*) FROM nonce) = cardinality($1::bytea[])
          RETURNING id
        ), issued AS (
          INSERT INTO credential_issuances (id, offer_id, access_token_id, configuration_id, user_id, holder_key_thumbprint, credential_hash, issuer_kid, expires_at)
          SELECT c.id, $5, token.id, $3, $6, c.thumbprint, c.hash, c.kid, c.expires_at
          FROM token, unnest($7::uuid[], $8::text[], $9::text[], $10::text[], $11::timestamptz[]) AS c(id, thumbprint, hash, kid, expires_at)
        ), logged AS (
          INSERT INTO events (id, type, category, timestamp, request_id, actor, data)
          SELECT gen_random_uuid(), 'OPENID_CREDENTIAL_ISSUE_' || e.suffix, 'OpenId', clock_timestamp() + e.offset_ms * interval '1 millisecond', $12, NULL, e.data
          FROM token CROSS JOIN (VALUES ('START', 0, '{}'::jsonb), ('SUCCESS', 1, $13::jsonb)) AS e(suffix, offset_ms, data)
        )
        SELECT (SELECT count(*) FROM nonce) AS fresh_nonces, (SELECT count(*) FROM token) AS token_updated`,
      values: [
        issuance.nonces.map((n) => n.hash),
        issuance.nonces.map((n) => n.expiresAt),
        issuance.configurationId,
        issuance.accessTokenId,
        issuance.offerId,
        issuance.userId,
        issuance.credentials.map((c) => c.id),
        issuance.credentials.map((c) => c.holderKeyThumbprint),
        issuance.credentials.map((c) => c.hash),
        issuance.credentials.map((c) => c.issuerKid),
        issuance.credentials.map((c) => c.expiresAt),
        issuance.event.requestId,
        JSON.stringify({
          offerId: issuance.offerId,
          userId: issuance.userId,
          accessTokenId: issuance.accessTokenId,
          credentialConfigurationId: issuance.configurationId,
          credentialIds: issuance.credentials.map((c) => c.id),
          holderKeyThumbprints: issuance.credentials.map((c) => c.holderKeyThumbprint),
        }),
      ],
    });
    const row = rows[0]!;
    if (Number(row.token_updated) === 1) {
      await client.query('COMMIT');
      return 'issued';
    }
    await client.query('ROLLBACK');
    return Number(row.fresh_nonces) < issuance.nonces.length ? 'nonce-used' : 'denied';
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    // A connection that could not even roll back is discarded, not returned to the pool.
    client.release(broken);
  }
}
