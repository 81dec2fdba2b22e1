import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import { withinPageBytes } from '../db/pages.js';
import type { Database } from '../db/schema.js';
import type { ConfigurationInput, ConfigurationRecord } from '../formats/format.js';

/** Cache invalidation topic: a change of a configuration is announced with its id. */
export const CONFIGURATION_TOPIC = 'configuration';

type Row = Selectable<Database['credential_configurations']>;

export function toConfiguration(row: Row): ConfigurationRecord {
  return {
    id: row.id,
    format: row.format,
    type: row.type,
    name: row.name ?? undefined,
    description: row.description ?? undefined,
    claimMappings: row.claim_mappings,
    expiresIn: row.expires_in ?? undefined,
    // A Date from a query, a string from the JSON the credential endpoint's look-up aggregates.
    validFrom: row.valid_from ? new Date(row.valid_from).toISOString() : undefined,
    validUntil: row.valid_until ? new Date(row.valid_until).toISOString() : undefined,
    branding: (row.branding as ConfigurationRecord['branding']) ?? undefined,
    includeStatus: row.include_status,
    statusListBits: row.status_list_bits as 1 | 2,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const columns = (input: ConfigurationInput) => ({
  type: input.type,
  name: input.name ?? null,
  description: input.description ?? null,
  claim_mappings: JSON.stringify(input.claimMappings),
  expires_in: input.expiresIn ? JSON.stringify(input.expiresIn) : null,
  valid_from: input.validFrom ? new Date(input.validFrom) : null,
  valid_until: input.validUntil ? new Date(input.validUntil) : null,
  branding: input.branding ? JSON.stringify(input.branding) : null,
  include_status: input.includeStatus ?? false,
  status_list_bits: input.statusListBits ?? 1,
});

/** The error of a write that would give a second mso_mdoc configuration the same docType (migrations/006_mdoc.sql). */
export function isDuplicateDocType(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'credential_configurations_mdoc_doctype';
}

export async function insertConfiguration(db: Tx, id: string, format: string, input: ConfigurationInput): Promise<ConfigurationRecord> {
  const row = await db
    .insertInto('credential_configurations')
    .values({ id, format, ...columns(input), updated_at: new Date() })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toConfiguration(row);
}

export async function updateConfiguration(db: Tx, id: string, format: string, input: ConfigurationInput): Promise<ConfigurationRecord | undefined> {
  const row = await db
    .updateTable('credential_configurations')
    .set({ ...columns(input), updated_at: new Date() })
    .where('id', '=', id)
    .where('format', '=', format)
    .returningAll()
    .executeTakeFirst();
  return row && toConfiguration(row);
}

/** A configuration of any format, or of `format` only. */
export async function findConfiguration(db: Db | Tx, id: string, format?: string): Promise<ConfigurationRecord | undefined> {
  let query = db.selectFrom('credential_configurations').selectAll().where('id', '=', id);
  if (format) query = query.where('format', '=', format);
  const row = await query.executeTakeFirst();
  return row && toConfiguration(row);
}

/** Newest first, within PAGE_BYTES. */
export async function listConfigurations(db: Db, page: { format: string; limit: number; beforeSeq?: string }) {
  let query = db.selectFrom('credential_configurations').selectAll().where('format', '=', page.format);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  return withinPageBytes(db, query.orderBy('seq', 'desc').limit(page.limit + 1), page.limit);
}

export async function listAllConfigurations(db: Db): Promise<ConfigurationRecord[]> {
  return (await db.selectFrom('credential_configurations').selectAll().orderBy('seq', 'asc').execute()).map(toConfiguration);
}

/** Deletes unless a live (pending, unexpired) offer references it. */
export async function deleteConfiguration(db: Tx, id: string, format: string): Promise<'deleted' | 'not-found' | 'in-use'> {
  const row = await db.selectFrom('credential_configurations').select('id').where('id', '=', id).where('format', '=', format).forUpdate().executeTakeFirst();
  if (!row) return 'not-found';
  const live = await db
    .selectFrom('offers')
    .select('id')
    .where('status', '=', 'pending')
    .where('expires_at', '>', new Date())
    .where('configuration_ids', '@>', sql<string[]>`ARRAY[${id}]::uuid[]`)
    .limit(1)
    .executeTakeFirst();
  if (live) return 'in-use';
  await db.deleteFrom('credential_configurations').where('id', '=', id).execute();
  return 'deleted';
}
