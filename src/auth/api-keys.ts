import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { constantTimeEqual, randomSecret } from '../crypto/secrets.js';
import { storedSecret } from '../crypto/stored-secrets.js';
import type { Db } from '../db/database.js';
import { newRowId } from '../db/ids.js';
import { notFound } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import type { Principal, Role } from './roles.js';
import { API_KEY_TOPIC, countApiKeys, findActiveApiKey, insertApiKey, rehashApiKey, listApiKeys as listApiKeyRows, revokeApiKey as revokeApiKeyRow, type ApiKeyRow } from './store.js';

export const ENV_ADMIN_KEY_ID = 'env:ADMIN_API_KEY';

export const API_KEY_EVENTS = {
  create: { type: 'API_KEY_CREATE', category: 'ApiKey' },
  delete: { type: 'API_KEY_DELETE', category: 'ApiKey' },
} as const satisfies Record<string, EventKind>;

/** 256-bit random API keys with a recognisable prefix (so secret scanners can find leaked ones). */
export function generateApiKey(): string {
  return `vci_${randomSecret(32)}`;
}

/**
 * The principal an API key stands for, or undefined. `adminApiKeyHash` is the stored form of
 * ADMIN_API_KEY, which is always an admin. Only valid keys of other roles are cached: an unknown key
 * and a stored admin key always ask the database, so a revoked admin key stops working at once on
 * every instance, whatever the state of its cache invalidation.
 *
 * While SECRET is rotated, a key stored under SECRET_PREVIOUS is found by its hash under that, and
 * hashed again under SECRET: keys move to the new secret as they are used.
 */
export async function authenticateApiKey(
  ctx: Pick<AppContext, 'db' | 'secrets' | 'caches'>,
  presented: string,
  adminApiKeyHash: Buffer | undefined,
): Promise<Principal | undefined> {
  const hash = storedSecret.apiKey(ctx.secrets, presented);
  if (adminApiKeyHash && constantTimeEqual(hash, adminApiKeyHash)) return { keyId: ENV_ADMIN_KEY_ID, role: 'admin' };
  return ctx.caches.apiKeys.get(
    hash.toString('base64'),
    async () => {
      const previous = ctx.secrets.previous;
      const row = await findActiveApiKey(ctx.db, previous ? [hash, storedSecret.apiKey(previous, presented)] : [hash]);
      if (!row) return undefined;
      if (!ctx.secrets.isCurrent(row.secret_key_id)) await rehashApiKey(ctx.db, row.id, row.key_hash, { keyHash: hash, secretKeyId: ctx.secrets.keyId });
      return { keyId: row.id, role: row.role };
    },
    (principal) => principal.role !== 'admin',
  );
}

/** Creates a key; the key itself is returned here and never again. */
export async function createApiKey(ctx: AppContext, audit: AuditContext, input: { name: string; role: Role }): Promise<{ row: ApiKeyRow; key: string }> {
  const key = generateApiKey();
  return audited(ctx, audit, API_KEY_EVENTS.create, async (trx) => {
    const row = await insertApiKey(trx, { id: newRowId(), ...input, keyHash: storedSecret.apiKey(ctx.secrets, key), secretKeyId: ctx.secrets.keyId });
    return { result: { row, key }, data: { apiKeyId: row.id, role: row.role } };
  });
}

/** Revokes a key, at once on this instance and on the others as soon as the notification reaches them. */
export async function revokeApiKey(ctx: AppContext, audit: AuditContext, id: string): Promise<void> {
  await audited(ctx, audit, API_KEY_EVENTS.delete, async (trx) => {
    if (!(await revokeApiKeyRow(trx, id))) throw notFound('API key');
    return { result: undefined, data: { apiKeyId: id }, changed: [{ topic: API_KEY_TOPIC, key: '*' }] };
  });
}

export const listApiKeys = (ctx: Pick<AppContext, 'db'>, page: { limit: number; beforeSeq?: string }) => listApiKeyRows(ctx.db, page);

/**
 * On first start with no ADMIN_API_KEY and no keys at all, creates an admin key and returns it so
 * that it can be printed once. Returns undefined when nothing was created.
 */
export async function bootstrapAdminKey(ctx: { db: Db; secrets: AppContext['secrets'] }, name = 'bootstrap admin'): Promise<string | undefined> {
  if ((await countApiKeys(ctx.db)) > 0) return undefined;
  const key = generateApiKey();
  // Two instances starting at once on an empty database: the advisory lock lets only one create it.
  const created = await ctx.db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(7411902362)`.execute(trx);
    const existing = await trx.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
    if (existing) return false;
    await insertApiKey(trx, { id: newRowId(), name, role: 'admin' satisfies Role, keyHash: storedSecret.apiKey(ctx.secrets, key), secretKeyId: ctx.secrets.keyId });
    return true;
  });
  return created ? key : undefined;
}
