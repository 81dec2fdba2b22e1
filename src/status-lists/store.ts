import type pg from 'pg';
import type { Db } from '../db/database.js';
import type { StatusBits } from './encoding.js';
import type { StatusListKind } from '../protocol.js';

/** Cache invalidation topic: a change of a list's entries is announced with the list's id. */
export const STATUS_LIST_TOPIC = 'status-list';

export interface AllocatedEntry {
  listId: string;
  idx: number;
}

/** `count` fresh entries of an open list of this kind, signer and width (see allocate_status_entries in migrations/). One statement. */
export async function allocateEntries(
  pool: pg.Pool,
  request: { kind: StatusListKind; signer: string; signerExpiresAt: Date | null; bits: StatusBits; size: number; count: number },
): Promise<AllocatedEntry[]> {
  const { rows } = await pool.query<{ list_id: string; idx: number }>({
    name: 'allocate-status-entries',
    text: 'SELECT list_id, idx FROM allocate_status_entries($1, $2, $3, $4, $5, $6)',
    values: [request.kind, request.signer, request.signerExpiresAt, request.bits, request.size, request.count],
  });
  return rows.map((row) => ({ listId: row.list_id, idx: row.idx }));
}

export interface StatusListRow {
  id: string;
  kind: StatusListKind;
  signer: string;
  signer_expires_at: Date | null;
  bits: StatusBits;
  size: number;
  version: string;
  changed_at: Date;
  signed: Buffer | null;
  signed_version: string | null;
  signed_at: Date | null;
  signed_until: Date | null;
}

export async function findStatusList(db: Db, id: string): Promise<StatusListRow | undefined> {
  return (await db
    .selectFrom('status_lists')
    .select(['id', 'kind', 'signer', 'signer_expires_at', 'bits', 'size', 'version', 'changed_at', 'signed', 'signed_version', 'signed_at', 'signed_until'])
    .where('id', '=', id)
    .executeTakeFirst()) as StatusListRow | undefined;
}

/** The entries of a list that are not valid (the others are 0 in the token). */
export async function listSetEntries(db: Db, listId: string): Promise<{ idx: number; status: number }[]> {
  return db.selectFrom('status_list_entries').select(['idx', 'status']).where('list_id', '=', listId).where('status', '<>', 0).execute();
}

/**
 * Keeps a signed token with the version of the list it shows, unless the list changed meanwhile
 * (then the next fetch signs again). Instances then serve the same bytes.
 */
export async function saveToken(db: Db, id: string, token: { bytes: Buffer; version: string; issuedAt: Date; expiresAt: Date }): Promise<void> {
  await db
    .updateTable('status_lists')
    .set({ signed: token.bytes, signed_version: token.version, signed_at: token.issuedAt, signed_until: token.expiresAt })
    .where('id', '=', id)
    .where('version', '=', token.version)
    .execute();
}

/** The lists of a kind whose signer can still sign them, oldest first. */
export async function listCurrentStatusLists(db: Db, kind: StatusListKind): Promise<string[]> {
  const rows = await db
    .selectFrom('status_lists')
    .select('id')
    .where('kind', '=', kind)
    .where((eb) => eb.or([eb('signer_expires_at', 'is', null), eb('signer_expires_at', '>', new Date())]))
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.id);
}
