import { sql } from 'kysely';
import type pg from 'pg';
import { batched } from '../db/batch.js';
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
 * Access tokens by hash, each with its offer's claims and the offered configurations, in one round
 * trip: this runs on every credential request, so it reads across the offers and configurations
 * tables itself. One result per hash, in order.
 */
export async function findAccessTokens(pool: pg.Pool, tokenHashes: Buffer[]): Promise<(AccessTokenGrant | undefined)[]> {
  const { rows } = await pool.query<Omit<AccessTokenGrant, 'configurations'> & { token_hash: Buffer; configurations: ConfigurationJson[] }>({
    name: 'find-access-tokens',
    text: `SELECT t.token_hash, t.id, t.offer_id, o.user_id, t.configuration_ids, t.issued_configuration_ids, o.claims,
                  t.expires_at <= now() AS expired, t.revoked_at IS NOT NULL AS revoked, t.dpop_jkt,
                  (SELECT coalesce(json_agg(c), '[]') FROM credential_configurations c WHERE c.id = ANY (t.configuration_ids)) AS configurations
           FROM access_tokens t
           -- LIMIT 1 (ids are unique) keeps this one look-up per token: as a join, a generic plan made
           -- while offers was small read all of offers into a hash table.
           CROSS JOIN LATERAL (SELECT user_id, claims FROM offers WHERE id = t.offer_id LIMIT 1) o
           WHERE t.token_hash = ANY ($1)`,
    values: [tokenHashes],
  });
  const byHash = new Map(
    rows.map(({ token_hash, ...row }) => [
      token_hash.toString('hex'),
      { ...row, configurations: row.configurations.map((c) => toConfiguration({ ...c, created_at: new Date(c.created_at), updated_at: new Date(c.updated_at) })) },
    ]),
  );
  return tokenHashes.map((hash) => byHash.get(hash.toString('hex')));
}

export type AccessTokenFinder = (tokenHash: Buffer) => Promise<AccessTokenGrant | undefined>;

/** Looks up as {@link findAccessTokens} does; look-ups made at the same moment on this pool share one statement (see {@link batched}). */
export function createAccessTokenFinder(pool: pg.Pool): AccessTokenFinder {
  return batched((tokenHashes: Buffer[]) => findAccessTokens(pool, tokenHashes));
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
 * Which inputs may use their access token. The first time, the conditional UPDATE marks the
 * configuration issued at most once (it serialises concurrent requests on the token's row). Again,
 * the token must have issued it already, to exactly the same holder keys. `t.id = ANY ($1)`, implied
 * by the join, keeps a cached generic plan on the primary key however small the table was when it
 * was made.
 */
const TOKEN_FIRST_TIME = `
  UPDATE access_tokens t SET issued_configuration_ids = array_append(t.issued_configuration_ids, i.configuration_id)
  FROM input i
  WHERE t.id = ANY ($1) AND t.id = i.token_id AND t.revoked_at IS NULL AND t.expires_at > now()
    AND NOT (i.configuration_id = ANY (t.issued_configuration_ids))
  RETURNING i.*`;
const TOKEN_AGAIN = `
  SELECT i.* FROM input i JOIN access_tokens t ON t.id = i.token_id
  WHERE t.id = ANY ($1) AND t.revoked_at IS NULL AND t.expires_at > now() AND i.configuration_id = ANY (t.issued_configuration_ids)
    AND (SELECT array_agg(DISTINCT holder_key_thumbprint ORDER BY holder_key_thumbprint) FROM credential_issuances
         WHERE access_token_id = t.id AND configuration_id = i.configuration_id)
      = (SELECT array_agg(DISTINCT c.thumbprint ORDER BY c.thumbprint) FROM unnest($16::text[], $15::int8[]) AS c(thumbprint, n) WHERE c.n = i.n)
    -- A retry never re-issues what was revoked or suspended since.
    AND NOT EXISTS (SELECT FROM credential_issuances c
                    JOIN status_list_entries e ON e.list_id = c.status_list_id AND e.idx = c.status_index
                    WHERE c.access_token_id = t.id AND c.configuration_id = i.configuration_id AND e.status <> 0)
  FOR UPDATE OF t`;

/** Inputs are one row per issuance, n its ordinal; nonces and credentials are flat arrays, each item with the n of its issuance. */
const recordIssuancesSql = (token: string) => `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[])
      WITH ORDINALITY AS i(token_id, configuration_id, offer_id, user_id, notification_id, format, type, request_id, event_type, event_category, event_data, n)
  ), token AS (${token}
  ), nonce AS (
    INSERT INTO used_nonces (nonce_hash, expires_at)
    SELECT x.hash, x.expires_at FROM unnest($12::bytea[], $13::timestamptz[], $14::int8[]) AS x(hash, expires_at, n) JOIN token USING (n)
  ), issued AS (
    INSERT INTO credential_issuances (id, offer_id, access_token_id, configuration_id, user_id, holder_key_thumbprint, credential_hash, issuer_kid, expires_at,
                                      notification_id, format, type, valid_from, status_list_id, status_index)
    SELECT c.id, token.offer_id, token.token_id, token.configuration_id, token.user_id, c.thumbprint, c.hash, c.kid, c.expires_at,
           token.notification_id, token.format, token.type, c.valid_from, c.list_id, c.idx
    FROM unnest($15::int8[], $16::text[], $17::uuid[], $18::text[], $19::text[], $20::timestamptz[], $21::timestamptz[], $22::uuid[], $23::int[])
      AS c(n, thumbprint, id, hash, kid, expires_at, valid_from, list_id, idx)
    JOIN token USING (n)
  )
  SELECT n, record_events(event_type, event_category, request_id, NULL, 'SUCCESS', event_data) FROM token`;
const FIRST_TIME = recordIssuancesSql(TOKEN_FIRST_TIME);
const AGAIN = recordIssuancesSql(TOKEN_AGAIN);

/**
 * Records issuances in ONE statement, each all-or-nothing with it: marks the configuration as issued
 * on the access token, consumes the c_nonces (a used one violates the primary key and aborts the
 * whole statement), stores one row per credential and the events. All inputs first-time or all again.
 */
export async function recordIssuances(pool: pg.Pool, issuances: Issuance[]): Promise<IssuanceOutcome[]> {
  const again = issuances[0]!.again;
  const items = <T>(pick: (issuance: Issuance) => T[]) => issuances.flatMap((issuance, index) => pick(issuance).map((item) => ({ item, n: index + 1 })));
  const nonces = items((issuance) => issuance.nonces);
  const credentials = items((issuance) => issuance.credentials);
  try {
    const { rows } = await pool.query<{ n: string }>({
      name: again ? 'record-issuances-again' : 'record-issuances',
      text: again ? AGAIN : FIRST_TIME,
      values: [
        issuances.map((issuance) => issuance.accessTokenId),
        issuances.map((issuance) => issuance.configurationId),
        issuances.map((issuance) => issuance.offerId),
        issuances.map((issuance) => issuance.userId),
        issuances.map((issuance) => issuance.notificationId),
        issuances.map((issuance) => issuance.format),
        issuances.map((issuance) => issuance.type),
        issuances.map((issuance) => issuance.event.audit.requestId),
        issuances.map((issuance) => issuance.event.kind.type),
        issuances.map((issuance) => issuance.event.kind.category),
        issuances.map((issuance) =>
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
        ),
        nonces.map(({ item }) => item.hash),
        nonces.map(({ item }) => item.expiresAt),
        nonces.map(({ n }) => n),
        credentials.map(({ n }) => n),
        credentials.map(({ item }) => item.holderKeyThumbprint),
        credentials.map(({ item }) => item.id),
        credentials.map(({ item }) => item.hash),
        credentials.map(({ item }) => item.issuerKid),
        credentials.map(({ item }) => item.expiresAt),
        credentials.map(({ item }) => item.validFrom),
        credentials.map(({ item }) => item.status?.listId ?? null),
        credentials.map(({ item }) => item.status?.idx ?? null),
      ],
    });
    const issued = new Set(rows.map((row) => Number(row.n)));
    return issuances.map((_, index) => (issued.has(index + 1) ? 'issued' : 'denied'));
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    // Shared, the statement is run again for each issuance alone (src/db/batch.ts), which tells whose nonce it was.
    if (code === '23505' && constraint === 'used_nonces_pkey' && issuances.length === 1) return ['nonce-used'];
    throw error;
  }
}

export type IssuanceRecorder = (issuance: Issuance) => Promise<IssuanceOutcome>;

/**
 * Records as {@link recordIssuances} does. Issuances made at the same moment on this pool share one
 * statement and one commit (see {@link batched}); never two of one access token, which meet on the
 * token's row as separate requests would.
 */
export function createIssuanceRecorder(pool: pg.Pool): IssuanceRecorder {
  const options = { keyOf: (issuance: Issuance) => issuance.accessTokenId };
  const firstTime = batched((issuances: Issuance[]) => recordIssuances(pool, issuances), options);
  const again = batched((issuances: Issuance[]) => recordIssuances(pool, issuances), options);
  return (issuance) => (issuance.again ? again(issuance) : firstTime(issuance));
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
