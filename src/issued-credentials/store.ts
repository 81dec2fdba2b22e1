import type pg from 'pg';
import type { Db, Tx } from '../db/database.js';
import { INVALIDATION_CHANNEL } from '../db/invalidation.js';
import { withinPageBytes } from '../db/pages.js';
import type { AuditContext, EventKind } from '../events/audit.js';
import type { NotificationEvent } from '../protocol.js';
import { statusName } from '../status-lists/encoding.js';
import { STATUS_LIST_TOPIC } from '../status-lists/store.js';

export interface IssuedCredentialRow {
  id: string;
  seq: string;
  format: string;
  type: string;
  user_id: string;
  offer_id: string;
  configuration_id: string;
  holder_key_thumbprint: string;
  issued_at: Date;
  valid_from: Date;
  expires_at: Date | null;
  status_list_id: string | null;
  status_index: number | null;
  /** The entry's status value, when it has one. */
  status: number | null;
  holder_event: NotificationEvent | null;
  holder_event_at: Date | null;
}

function selectRecords(db: Db | Tx) {
  return db
    .selectFrom('credential_issuances as c')
    .leftJoin('status_list_entries as e', (join) => join.onRef('e.list_id', '=', 'c.status_list_id').onRef('e.idx', '=', 'c.status_index'))
    .select([
      'c.id',
      'c.seq',
      'c.format',
      'c.type',
      'c.user_id',
      'c.offer_id',
      'c.configuration_id',
      'c.holder_key_thumbprint',
      'c.issued_at',
      'c.valid_from',
      'c.expires_at',
      'c.status_list_id',
      'c.status_index',
      'e.status',
      'c.holder_event',
      'c.holder_event_at',
    ]);
}

/** A user's credentials, newest first. */
export async function listUserCredentials(db: Db, page: { userId: string; limit: number; beforeSeq?: string }) {
  let query = selectRecords(db).where('c.user_id', '=', page.userId);
  if (page.beforeSeq) query = query.where('c.seq', '<', page.beforeSeq);
  return withinPageBytes<IssuedCredentialRow>(db, query.orderBy('c.seq', 'desc').limit(page.limit + 1), page.limit);
}

/** A credential of one of `formats`. */
export async function findIssuedCredential(db: Db | Tx, id: string, formats: readonly string[]): Promise<IssuedCredentialRow | undefined> {
  return selectRecords(db).where('c.id', '=', id).where('c.format', 'in', formats).executeTakeFirst();
}

/** Removes the record (one statement: of two concurrent deletes, one finds it); its status list entry stays as it is. */
export async function deleteIssuedCredential(trx: Tx, id: string, formats: readonly string[]): Promise<{ user_id: string; format: string } | undefined> {
  return trx.deleteFrom('credential_issuances').where('id', '=', id).where('format', 'in', formats).returning(['user_id', 'format']).executeTakeFirst();
}

/** Which credentials a status change is about: one by id (of the route's formats), or all of a user's or an offer's. */
export type StatusTarget = { credentialId: string; formats: readonly string[] } | { userId: string } | { offerId: string };

export interface StatusChange {
  target: StatusTarget;
  status: number;
  /** The event each format's changes are recorded with. */
  events: Record<string, EventKind>;
  /** Added to each event's data. */
  data: Record<string, unknown>;
  audit: AuditContext;
}

export interface StatusChangeOutcome {
  /** Credentials the target names (0: none exists). */
  credentials: number;
  /** Of those, the ones with a status list entry, and (for one credential) its status before and its list's bits. */
  withStatus: number;
  previous: number | null;
  bits: number | null;
  updated: number;
  unchanged: number;
  /** The lists whose tokens changed. */
  lists: string[];
}

const TARGET_COLUMN = { credentialId: 'c.id', userId: 'c.user_id', offerId: 'c.offer_id' } as const;

// Which transitions a list allows: invalid (1) is final, suspended (2) needs 2 bits.
const ALLOWED = 'entry.status <> $2 AND entry.status <> 1 AND ($2 <> 2 OR entry.bits = 2)';

/**
 * Sets the status of the target's credentials in ONE statement: the entries (locked, so concurrent
 * changes serialise and `invalid` stays final), their lists' versions, the announcement that drops
 * every instance's copy of those lists' tokens, and one event per format with the credentials it
 * changed. Nothing changes, and nothing is recorded, for credentials that already have the status.
 */
export async function changeStatus(pool: pg.Pool, change: StatusChange): Promise<StatusChangeOutcome> {
  const [key, id] = Object.entries(change.target).find(([name]) => name in TARGET_COLUMN) as [keyof typeof TARGET_COLUMN, string];
  const { rows } = await pool.query<StatusChangeOutcome>({
    name: `change-status-by-${key}`,
    text: `
      WITH credential AS (
        SELECT c.id, c.format, c.status_list_id, c.status_index FROM credential_issuances c
        WHERE ${TARGET_COLUMN[key]} = $1 AND (cardinality($9::text[]) = 0 OR c.format = ANY ($9::text[]))
      ), entry AS (
        SELECT credential.id, credential.format, e.list_id, e.idx, e.status, l.bits
        FROM credential
        JOIN status_list_entries e ON e.list_id = credential.status_list_id AND e.idx = credential.status_index
        JOIN status_lists l ON l.id = e.list_id
        -- Entries, then lists, each locked in one order, so that concurrent bulk changes never deadlock.
        ORDER BY e.list_id, e.idx
        FOR UPDATE OF e
      ), locked_list AS (
        SELECT id FROM status_lists WHERE id IN (SELECT list_id FROM entry) ORDER BY id FOR UPDATE
      ), changed AS (
        UPDATE status_list_entries e SET status = $2 FROM entry
        WHERE e.list_id = entry.list_id AND e.idx = entry.idx AND ${ALLOWED}
        RETURNING entry.id, entry.format, entry.list_id, entry.status AS previous
      ), list AS (
        UPDATE status_lists SET version = version + 1, changed_at = now()
        WHERE id IN (SELECT id FROM locked_list) AND id IN (SELECT list_id FROM changed)
        RETURNING id
      ), announced AS (
        SELECT pg_notify($3, $4 || ':' || id) FROM list
      ), logged AS (
        SELECT record_events(($5::jsonb -> format) ->> 'type', ($5::jsonb -> format) ->> 'category', $6, $7, 'SUCCESS',
                             $8::jsonb || jsonb_build_object('credentialIds', jsonb_agg(id ORDER BY id), 'status', $10::text))
        FROM changed GROUP BY format
      )
      SELECT (SELECT count(*) FROM credential)::int AS credentials,
             (SELECT count(*) FROM entry)::int AS "withStatus",
             (SELECT status FROM entry LIMIT 1) AS previous,
             (SELECT bits FROM entry LIMIT 1) AS bits,
             (SELECT count(*) FROM changed)::int AS updated,
             (SELECT count(*) FROM entry WHERE status = $2)::int AS unchanged,
             (SELECT coalesce(array_agg(id), '{}') FROM list) AS lists,
             (SELECT count(*) FROM announced)::int + (SELECT count(*) FROM logged)::int AS side_effects`,
    values: [
      id,
      change.status,
      INVALIDATION_CHANNEL,
      STATUS_LIST_TOPIC,
      JSON.stringify(change.events),
      change.audit.requestId,
      change.audit.actor,
      JSON.stringify(change.data),
      'formats' in change.target ? change.target.formats : [],
      statusName(change.status),
    ],
  });
  return rows[0]!;
}

/** Whether the user or offer a bulk change names exists. */
export async function targetExists(db: Db, target: { userId: string } | { offerId: string }): Promise<boolean> {
  const query =
    'userId' in target
      ? db.selectFrom('users').select('id').where('id', '=', target.userId)
      : db.selectFrom('offers').select('id').where('id', '=', target.offerId);
  return Boolean(await query.executeTakeFirst());
}
