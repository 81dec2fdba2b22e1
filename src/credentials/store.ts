import { sql } from 'kysely';
import type pg from 'pg';
import type { Tx } from '../db/database.js';
import type { NotificationEvent } from '../protocol.js';
import { toConfiguration } from '../configurations/store.js';
import type { AuditContext, EventKind } from '../events/audit.js';
import type { ConfigurationRecord } from '../formats/format.js';

export interface AccessTokenGrant {
  id: string;
  offer_id: string;
  user_id: string;
  configuration_ids: string[];
  issued_configuration_ids: string[];
  /** The claims snapshot of the offer. */
  claims: Record<string, unknown>;
  /** The offered configurations that still exist. */
  configurations: ConfigurationRecord[];
  expired: boolean;
  revoked: boolean;
  /** DPoP-bound tokens: the thumbprint of the key every request must prove (RFC 9449 §6). */
  dpop_jkt: string | null;
}

type ConfigurationJson = Parameters<typeof toConfiguration>[0] & { created_at: string; updated_at: string };

/**
 * The access token, its offer's claims and the offered configurations, in one round trip: this
 * runs on every credential request, so it reads across the offers and configurations tables itself.
 */
export async function findAccessToken(pool: pg.Pool, tokenHash: Buffer): Promise<AccessTokenGrant | undefined> {
  const { rows } = await pool.query<Omit<AccessTokenGrant, 'configurations'> & { configurations: ConfigurationJson[] }>({
    name: 'find-access-token',
    text: `SELECT t.id, t.offer_id, o.user_id, t.configuration_ids, t.issued_configuration_ids, o.claims,
                  t.expires_at <= now() AS expired, t.revoked_at IS NOT NULL AS revoked, t.dpop_jkt,
                  (SELECT coalesce(json_agg(c), '[]') FROM credential_configurations c WHERE c.id = ANY (t.configuration_ids)) AS configurations
           FROM access_tokens t JOIN offers o ON o.id = t.offer_id
           WHERE t.token_hash = $1`,
    values: [tokenHash],
  });
  const row = rows[0];
  return (
    row && {
      ...row,
      configurations: row.configurations.map((c) => toConfiguration({ ...c, created_at: new Date(c.created_at), updated_at: new Date(c.updated_at) })),
    }
  );
}

export interface Issuance {
  accessTokenId: string;
  offerId: string;
  userId: string;
  configurationId: string;
  /** The configuration's format and type (vct, docType), kept with each credential. */
  format: string;
  type: string;
  nonces: { hash: Buffer; expiresAt: Date }[];
  credentials: {
    id: string;
    holderKeyThumbprint: string;
    hash: string;
    issuerKid: string;
    validFrom: Date;
    expiresAt: Date | null;
    /** Its status list entry, when the configuration includes status. */
    status: { listId: string; idx: number } | null;
  }[];
  /** The response's notification_id (OID4VCI 1.0 §11): one for all its credentials. */
  notificationId: string;
  /** A wallet asking again, with the same keys, for credentials whose response it lost. */
  again: boolean;
  event: { kind: EventKind; audit: AuditContext };
}

export type IssuanceOutcome = 'issued' | 'nonce-used' | 'denied';

/**
 * Which access token an issuance may use. The first time, the conditional UPDATE marks the
 * configuration issued at most once (it serialises concurrent requests on the token's row). Again,
 * the token must have issued it already, to exactly the same holder keys.
 */
const TOKEN_FIRST_TIME = `
  UPDATE access_tokens SET issued_configuration_ids = array_append(issued_configuration_ids, $3::uuid)
  WHERE id = $4 AND revoked_at IS NULL AND expires_at > now() AND NOT ($3::uuid = ANY (issued_configuration_ids))
  RETURNING id`;
const TOKEN_AGAIN = `
  SELECT id FROM access_tokens
  WHERE id = $4 AND revoked_at IS NULL AND expires_at > now() AND $3::uuid = ANY (issued_configuration_ids)
    AND (SELECT array_agg(DISTINCT holder_key_thumbprint ORDER BY holder_key_thumbprint) FROM credential_issuances
         WHERE access_token_id = $4 AND configuration_id = $3)
      = (SELECT array_agg(DISTINCT thumbprint ORDER BY thumbprint) FROM unnest($8::text[]) AS thumbprint)
    -- A retry never re-issues what was revoked or suspended since.
    AND NOT EXISTS (SELECT FROM credential_issuances c
                    JOIN status_list_entries e ON e.list_id = c.status_list_id AND e.idx = c.status_index
                    WHERE c.access_token_id = $4 AND c.configuration_id = $3 AND e.status <> 0)
  FOR UPDATE`;

const recordIssuanceSql = (token: string) => `
  WITH token AS (${token}
  ), nonce AS (
    INSERT INTO used_nonces (nonce_hash, expires_at)
    SELECT n.hash, n.expires_at FROM token, unnest($1::bytea[], $2::timestamptz[]) AS n(hash, expires_at)
  ), issued AS (
    INSERT INTO credential_issuances (id, offer_id, access_token_id, configuration_id, user_id, holder_key_thumbprint, credential_hash, issuer_kid, expires_at,
                                      notification_id, format, type, valid_from, status_list_id, status_index)
    SELECT c.id, $5, token.id, $3, $6, c.thumbprint, c.hash, c.kid, c.expires_at, $16, $17, $21, c.valid_from, c.list_id, c.idx
    FROM token, unnest($7::uuid[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $18::timestamptz[], $19::uuid[], $20::int[])
      AS c(id, thumbprint, hash, kid, expires_at, valid_from, list_id, idx)
  ), logged AS (
    SELECT record_events($14, $15, $12, NULL, 'SUCCESS', $13::jsonb) FROM token
  )
  SELECT (SELECT count(*) FROM token)::int + (SELECT count(*) FROM logged)::int AS issued`;
const FIRST_TIME = recordIssuanceSql(TOKEN_FIRST_TIME);
const AGAIN = recordIssuanceSql(TOKEN_AGAIN);

/**
 * Records an issuance in ONE statement, so all of it commits or none: marks the configuration as
 * issued on the access token, consumes the c_nonces (a used one violates the primary key and aborts
 * the whole statement), stores one row per credential and the events.
 */
export async function recordIssuance(pool: pg.Pool, issuance: Issuance): Promise<IssuanceOutcome> {
  try {
    const { rows } = await pool.query<{ issued: number }>({
      name: issuance.again ? 'record-issuance-again' : 'record-issuance',
      text: issuance.again ? AGAIN : FIRST_TIME,
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
        issuance.event.audit.requestId,
        JSON.stringify({
          offerId: issuance.offerId,
          userId: issuance.userId,
          accessTokenId: issuance.accessTokenId,
          credentialConfigurationId: issuance.configurationId,
          format: issuance.format,
          credentialIds: issuance.credentials.map((c) => c.id),
          notificationId: issuance.notificationId,
          holderKeyThumbprints: issuance.credentials.map((c) => c.holderKeyThumbprint),
          ...(issuance.again && { again: true }),
        }),
        issuance.event.kind.type,
        issuance.event.kind.category,
        issuance.notificationId,
        issuance.format,
        issuance.credentials.map((c) => c.validFrom),
        issuance.credentials.map((c) => c.status?.listId ?? null),
        issuance.credentials.map((c) => c.status?.idx ?? null),
        issuance.type,
      ],
    });
    return rows[0]!.issued === 2 ? 'issued' : 'denied';
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code === '23505' && constraint === 'used_nonces_pkey') return 'nonce-used';
    throw error;
  }
}

export interface NotifiedCredential {
  id: string;
  offer_id: string;
  user_id: string;
  configuration_id: string;
  holder_event: NotificationEvent | null;
}

/** The credentials of a response by its notification_id, if this access token received them; locked until the transaction ends. */
export async function lockNotifiedCredentials(trx: Tx, notificationId: string, accessTokenId: string): Promise<NotifiedCredential[]> {
  return trx
    .selectFrom('credential_issuances')
    .select(['id', 'offer_id', 'user_id', 'configuration_id', 'holder_event'])
    .where('notification_id', '=', notificationId)
    .where('access_token_id', '=', accessTokenId)
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** What the holder's wallet said became of these credentials, and when. */
export async function setHolderEvent(trx: Tx, ids: string[], event: NotificationEvent): Promise<void> {
  await trx.updateTable('credential_issuances').set({ holder_event: event, holder_event_at: sql`now()` }).where('id', 'in', ids).execute();
}
