import type pg from 'pg';
import { batched } from '../db/batch.js';
import type { Db } from '../db/database.js';
import type { StatusBits } from './encoding.js';
import type { StatusListKind } from '../protocol.js';

/** Cache invalidation topic: a change of a list's entries is announced with the list's id. */
export const STATUS_LIST_TOPIC = 'status-list';

export interface AllocatedEntry {
  listId: string;
  idx: number;
}

export interface EntryRequest {
  kind: StatusListKind;
  signer: string;
  signerExpiresAt: Date | null;
  bits: StatusBits;
  count: number;
}

/**
 * For each request, `count` fresh entries of an open list of its kind, signer and width (see
 * allocate_status_entries in migrations/), in one statement: the function runs once per request, in
 * order, so each request's entries come from one list as when it runs alone.
 */
async function allocateEntries(pool: pg.Pool, size: number, requests: EntryRequest[]): Promise<AllocatedEntry[][]> {
  const { rows } = await pool.query<{ n: string; list_id: string; idx: number }>({
    name: 'allocate-status-entries',
    text: `SELECT r.n, e.list_id, e.idx
           FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::smallint[], $5::int[]) WITH ORDINALITY AS r(kind, signer, signer_expires_at, bits, count, n),
                LATERAL allocate_status_entries(r.kind, r.signer, r.signer_expires_at, r.bits, $6, r.count) AS e`,
    values: [
      requests.map((r) => r.kind),
      requests.map((r) => r.signer),
      requests.map((r) => r.signerExpiresAt),
      requests.map((r) => r.bits),
      requests.map((r) => r.count),
      size,
    ],
  });
  const entries = requests.map((): AllocatedEntry[] => []);
  for (const row of rows) entries[Number(row.n) - 1]!.push({ listId: row.list_id, idx: row.idx });
  return entries;
}

export type EntryAllocator = (request: EntryRequest) => Promise<AllocatedEntry[]>;

/**
 * Allocates as {@link allocateEntries} does; requests made at the same moment on this pool share one
 * statement (see {@link batched}) rather than queue on the list's row lock one statement at a time.
 */
export function createEntryAllocator(pool: pg.Pool, size: number): EntryAllocator {
  return batched((requests: EntryRequest[]) => allocateEntries(pool, size, requests));
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
