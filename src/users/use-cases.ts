import type { Claims } from '../claims/claim-data.js';
import type { AppContext } from '../context.js';
import { newRowId } from '../db/ids.js';
import { notFound } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import type { User } from './schemas.js';
import { deleteUser as deleteRow, getUser as findUser, insertUser, listUsers as listRows, replaceUserClaims } from './store.js';

export const USER_EVENTS = {
  create: { type: 'USER_CREATE', category: 'User' },
  update: { type: 'USER_UPDATE', category: 'User' },
  delete: { type: 'USER_DELETE', category: 'User' },
} as const satisfies Record<string, EventKind>;

export async function createUser(ctx: AppContext, audit: AuditContext, claims: Claims): Promise<User> {
  return audited(ctx, audit, USER_EVENTS.create, async (trx) => {
    const created = await insertUser(trx, newRowId(), claims);
    return { result: created, data: { userId: created.id } };
  });
}

export async function updateUserClaims(ctx: AppContext, audit: AuditContext, id: string, claims: Claims): Promise<User> {
  return audited(ctx, audit, USER_EVENTS.update, async (trx) => {
    const user = await replaceUserClaims(trx, id, claims);
    if (!user) throw notFound('User');
    return { result: user, data: { userId: user.id } };
  });
}

/**
 * Deletes a user. Credentials already issued stay valid (MATTR VII), but nothing more is issued from
 * the user's data: in the same transaction their pending offers are revoked, every access token of
 * their offers is revoked, and the offers' copies of their claims are dropped.
 */
export async function deleteUser(ctx: AppContext, audit: AuditContext, id: string): Promise<void> {
  await audited(ctx, audit, USER_EVENTS.delete, async (trx) => {
    const deleted = await deleteRow(trx, id);
    if (!deleted) throw notFound('User');
    return { result: undefined, data: { userId: id, revokedOffers: deleted.revokedOffers } };
  });
}

export async function getUser(ctx: Pick<AppContext, 'db'>, id: string): Promise<User> {
  return (await findUser(ctx.db, id)) ?? Promise.reject(notFound('User'));
}

/** Newest first; with `claims`, only the users whose claims contain them exactly. */
export const listUsers = (ctx: Pick<AppContext, 'db'>, page: { limit: number; beforeSeq?: string; claims?: Claims }) => listRows(ctx.db, page);
