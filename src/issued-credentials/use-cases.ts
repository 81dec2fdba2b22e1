import type { AppContext } from '../context.js';
import { conflict, invalidInput, notFound, skipFailureEvent } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import { CREDENTIAL_FORMATS, formatOf } from '../formats/index.js';
import { STATUS_VALUES, statusName, type StatusName } from '../status-lists/encoding.js';
import { STATUS_LIST_TOPIC } from '../status-lists/store.js';
import { statusListUri } from '../status-lists/uris.js';
import { getUser } from '../users/store.js';
import type { BulkStatusResult, IssuedCredentialRecord } from './schemas.js';
import {
  changeStatus,
  deleteIssuedCredential as deleteRecord,
  findIssuedCredential,
  listUserCredentials as listRows,
  targetExists,
  type IssuedCredentialRow,
  type StatusTarget,
} from './store.js';

/** The management path of a format family (`sd-jwt`, `mobile`), as MATTR VII names credentials by it. */
export type Profile = 'sd-jwt' | 'mobile';
const PROFILE_EVENT_NAME: Record<string, { prefix: string; category: string }> = {
  mobile: { prefix: 'MOBILE_CREDENTIAL', category: 'MobileCredential' },
  'sd-jwt': { prefix: 'SD_JWT_CREDENTIAL', category: 'SdJwtCredential' },
};

const formatsOf = (profile: Profile) => CREDENTIAL_FORMATS.filter((format) => format.managementPath === profile).map((format) => format.id);

/** `<MOBILE|SD_JWT>_CREDENTIAL_STATUS_SET` (MATTR VII's name for mDocs, the same shape for SD-JWT VCs), by format. */
const statusEvents = (): Record<string, EventKind> =>
  Object.fromEntries(CREDENTIAL_FORMATS.map((format) => [format.id, statusEventOf(format.managementPath as Profile)]));
export const statusEventOf = (profile: Profile): EventKind => ({ type: `${PROFILE_EVENT_NAME[profile]!.prefix}_STATUS_SET`, category: PROFILE_EVENT_NAME[profile]!.category });

export const ISSUED_CREDENTIAL_EVENTS = {
  delete: { type: 'USER_CREDENTIAL_DELETE', category: 'User' },
  bulkStatus: { type: 'USER_CREDENTIAL_STATUS_SET', category: 'User' },
} as const satisfies Record<string, EventKind>;

function toRecord(config: AppContext['config'], row: IssuedCredentialRow): IssuedCredentialRecord {
  const format = formatOf(row);
  return {
    id: row.id,
    profile: format.managementPath as Profile,
    format: row.format,
    type: row.type,
    userId: row.user_id,
    offerId: row.offer_id,
    credentialConfigurationId: row.configuration_id,
    holderKeyThumbprint: row.holder_key_thumbprint,
    issuedDate: row.issued_at.toISOString(),
    validFrom: row.valid_from.toISOString(),
    validUntil: row.expires_at?.toISOString() ?? null,
    status: row.status === null ? null : statusName(row.status),
    statusList: row.status_list_id === null ? null : { uri: statusListUri(config, format.statusListKind, row.status_list_id), index: row.status_index! },
    walletNotification: row.holder_event ? { event: row.holder_event, at: row.holder_event_at!.toISOString() } : null,
  };
}

export async function listUserCredentials(ctx: Pick<AppContext, 'db' | 'config'>, page: { userId: string; limit: number; beforeSeq?: string }) {
  if (!(await getUser(ctx.db, page.userId))) throw notFound('User');
  const { rows, more } = await listRows(ctx.db, page);
  return { rows: rows.map((row) => ({ ...toRecord(ctx.config, row), seq: row.seq })), more };
}

export async function getIssuedCredential(ctx: Pick<AppContext, 'db' | 'config'>, profile: Profile, id: string): Promise<IssuedCredentialRecord> {
  const row = await findIssuedCredential(ctx.db, id, formatsOf(profile));
  if (!row) throw notFound('Credential');
  return toRecord(ctx.config, row);
}

/** Forgets a credential's record (its user, offer, key); its status list entry keeps the status it has. */
export async function deleteIssuedCredential(ctx: Pick<AppContext, 'db' | 'invalidations'>, audit: AuditContext, profile: Profile, id: string): Promise<void> {
  await audited(ctx, audit, ISSUED_CREDENTIAL_EVENTS.delete, async (trx) => {
    const row = await deleteRecord(trx, id, formatsOf(profile));
    if (!row) throw skipFailureEvent(notFound('Credential'), 'names nothing that exists');
    return { result: undefined, data: { credentialId: id, userId: row.user_id, format: row.format } };
  });
}

/** A credential's status (MATTR VII: GET …/{credentialId}/status). */
export async function getCredentialStatus(ctx: Pick<AppContext, 'db' | 'config'>, profile: Profile, id: string): Promise<{ status: StatusName }> {
  const record = await getIssuedCredential(ctx, profile, id);
  if (!record.status) throw withoutStatusList();
  return { status: record.status };
}

const withoutStatusList = () =>
  conflict('This credential was issued without a status list entry: its configuration did not include status (includeStatus), so its status cannot be read or set');

/**
 * Sets a credential's status (MATTR VII: POST …/{credentialId}/status), in one statement: the
 * list's next token shows it, on every instance. Setting the status it has changes nothing.
 * `invalid` is final; `suspended` needs a configuration with 2-bit lists.
 */
export async function setCredentialStatus(
  ctx: Pick<AppContext, 'pool' | 'invalidations'>,
  audit: AuditContext,
  profile: Profile,
  id: string,
  status: StatusName,
): Promise<{ status: StatusName }> {
  const value = STATUS_VALUES[status];
  const outcome = await changeStatus(ctx.pool, {
    target: { credentialId: id, formats: formatsOf(profile) },
    status: value,
    events: statusEvents(),
    data: {},
    audit,
  });
  applyLocally(ctx, outcome.lists);
  if (!outcome.credentials) throw skipFailureEvent(notFound('Credential'), 'names nothing that exists');
  if (!outcome.withStatus) throw withoutStatusList();
  if (outcome.updated || outcome.previous === value) return { status };
  if (outcome.previous === STATUS_VALUES.invalid) throw conflict('This credential is invalid, which is final: its status cannot change any more');
  throw invalidInput(
    [{ field: 'status', message: 'suspended needs a 2-bit status list: this credential is on a 1-bit list (valid or invalid); configurations with statusListBits: 2 issue credentials that can be suspended' }],
    'This credential cannot be suspended',
  );
}

/**
 * Sets the status of every credential of a user or of an offer in one statement (a lost phone, a
 * person who left). Credentials that cannot take it (invalid already, or suspension on a 1-bit
 * list) and those without a status list entry are counted, not changed.
 */
export async function setStatusOfCredentials(
  ctx: Pick<AppContext, 'db' | 'pool' | 'invalidations'>,
  audit: AuditContext,
  target: Exclude<StatusTarget, { credentialId: string }>,
  status: StatusName,
): Promise<BulkStatusResult> {
  const outcome = await changeStatus(ctx.pool, { target, status: STATUS_VALUES[status], events: statusEvents(), data: target, audit });
  applyLocally(ctx, outcome.lists);
  if (!outcome.credentials && !(await targetExists(ctx.db, target))) {
    throw skipFailureEvent(notFound('userId' in target ? 'User' : 'Offer'), 'names nothing that exists');
  }
  return {
    status,
    updated: outcome.updated,
    unchanged: outcome.unchanged,
    refused: outcome.withStatus - outcome.updated - outcome.unchanged,
    withoutStatus: outcome.credentials - outcome.withStatus,
  };
}

/** The statement announced its lists to every instance; this one drops its copies at once. */
function applyLocally(ctx: Pick<AppContext, 'invalidations'>, lists: readonly string[]) {
  for (const list of lists) ctx.invalidations.applyLocally({ topic: STATUS_LIST_TOPIC, key: list });
}
