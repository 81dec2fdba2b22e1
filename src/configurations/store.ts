import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import type { InvalidatedCache } from '../db/invalidation.js';
import type { Database } from '../db/schema.js';
import type { Configuration, ConfigurationInput } from './schemas.js';

type Row = Selectable<Database['credential_configurations']>;

export function toConfiguration(row: Row): Configuration {
  return {
    id: row.id,
    format: 'dc+sd-jwt',
    type: row.type,
    name: row.name ?? undefined,
    description: row.description ?? undefined,
    claimMappings: row.claim_mappings as Configuration['claimMappings'],
    expiresIn: row.expires_in ?? undefined,
    branding: (row.branding as Configuration['branding']) ?? undefined,
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
  branding: input.branding ? JSON.stringify(input.branding) : null,
});

export async function insertConfiguration(db: Tx, id: string, input: ConfigurationInput): Promise<Configuration> {
  const row = await db
    .insertInto('credential_configurations')
    .values({ id, ...columns(input), updated_at: new Date() })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toConfiguration(row);
}

export async function updateConfiguration(db: Tx, id: string, input: ConfigurationInput): Promise<Configuration | undefined> {
  const row = await db
    .updateTable('credential_configurations')
    .set({ ...columns(input), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && toConfiguration(row);
}

export async function getConfiguration(db: Db | Tx, id: string): Promise<Configuration | undefined> {
  const row = await db.selectFrom('credential_configurations').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toConfiguration(row);
}

/** Cache invalidation topic: an update or delete of a configuration is announced with its id. */
export const CONFIGURATION_TOPIC = 'configuration';

/** The configurations that exist among `ids`, through the cross-instance cache. */
export async function getConfigurations(db: Db, cache: InvalidatedCache<Configuration>, ids: string[]): Promise<Configuration[]> {
  const found = await Promise.all(ids.map((id) => cache.get(id, () => getConfiguration(db, id))));
  return found.filter((configuration) => configuration !== undefined);
}

export async function listConfigurations(db: Db, page: { limit: number; beforeSeq?: string }) {
  let query = db.selectFrom('credential_configurations').selectAll();
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  return query.orderBy('seq', 'desc').limit(page.limit + 1).execute();
}

export async function listAllConfigurations(db: Db): Promise<Configuration[]> {
  return (await db.selectFrom('credential_configurations').selectAll().orderBy('seq', 'asc').execute()).map(toConfiguration);
}

/** Deletes unless a live (pending, unexpired) offer references it. */
export async function deleteConfiguration(db: Tx, id: string): Promise<'deleted' | 'not-found' | 'in-use'> {
  const row = await db.selectFrom('credential_configurations').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
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
