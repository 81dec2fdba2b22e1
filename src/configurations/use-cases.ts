import type { AppContext } from '../context.js';
import { newRowId } from '../db/ids.js';
import { conflict, notFound } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import type { ConfigurationInput, ConfigurationRecord, CredentialFormat } from '../formats/format.js';
import {
  CONFIGURATION_TOPIC,
  deleteConfiguration as deleteRow,
  findConfiguration,
  insertConfiguration,
  isDuplicateDocType,
  listConfigurations as listRows,
  updateConfiguration as updateRow,
} from './store.js';

export const CONFIGURATION_EVENTS = {
  create: { type: 'CREDENTIAL_CONFIGURATION_CREATE', category: 'CredentialConfiguration' },
  update: { type: 'CREDENTIAL_CONFIGURATION_UPDATE', category: 'CredentialConfiguration' },
  delete: { type: 'CREDENTIAL_CONFIGURATION_DELETE', category: 'CredentialConfiguration' },
} as const satisfies Record<string, EventKind>;

const NOT_FOUND = 'Credential configuration';
/** Every change is announced: each instance drops its copy of the configuration and its issuer metadata. */
const changed = (id: string) => [{ topic: CONFIGURATION_TOPIC, key: id }];
const eventData = (configuration: ConfigurationRecord) => ({ configurationId: configuration.id, type: configuration.type });

/** An mDoc's docType names one configuration (a draft-13 request names it by doctype): a second one is a 409. */
function refuseDuplicateType(input: ConfigurationInput) {
  return (error: unknown): never => {
    if (isDuplicateDocType(error)) throw conflict(`An mso_mdoc configuration of type (docType) ${input.type} exists already`);
    throw error;
  };
}

export async function createConfiguration(ctx: AppContext, audit: AuditContext, format: CredentialFormat, input: ConfigurationInput): Promise<ConfigurationRecord> {
  return audited(ctx, audit, CONFIGURATION_EVENTS.create, async (trx) => {
    const created = await insertConfiguration(trx, newRowId(), format.id, input);
    return { result: created, data: eventData(created), changed: changed(created.id) };
  }).catch(refuseDuplicateType(input));
}

export async function updateConfiguration(ctx: AppContext, audit: AuditContext, format: CredentialFormat, id: string, input: ConfigurationInput): Promise<ConfigurationRecord> {
  return audited(ctx, audit, CONFIGURATION_EVENTS.update, async (trx) => {
    const updated = await updateRow(trx, id, format.id, input);
    if (!updated) throw notFound(NOT_FOUND);
    return { result: updated, data: eventData(updated), changed: changed(id) };
  }).catch(refuseDuplicateType(input));
}

/** Refused (409) while a live offer uses it. */
export async function deleteConfiguration(ctx: AppContext, audit: AuditContext, format: CredentialFormat, id: string): Promise<void> {
  await audited(ctx, audit, CONFIGURATION_EVENTS.delete, async (trx) => {
    const outcome = await deleteRow(trx, id, format.id);
    if (outcome === 'not-found') throw notFound(NOT_FOUND);
    if (outcome === 'in-use') throw conflict('A pending offer uses this configuration; delete the offer or let it expire first');
    return { result: undefined, data: { configurationId: id }, changed: changed(id) };
  });
}

export async function getConfiguration(ctx: Pick<AppContext, 'db'>, format: CredentialFormat, id: string): Promise<ConfigurationRecord> {
  return (await findConfiguration(ctx.db, id, format.id)) ?? Promise.reject(notFound(NOT_FOUND));
}

export const listConfigurations = (ctx: Pick<AppContext, 'db'>, format: CredentialFormat, page: { limit: number; beforeSeq?: string }) =>
  listRows(ctx.db, { format: format.id, ...page });

/** The configurations that exist among `ids`, of any format, through the cross-instance cache. */
export async function getCachedConfigurations(ctx: Pick<AppContext, 'db' | 'caches'>, ids: string[]): Promise<ConfigurationRecord[]> {
  const found = await Promise.all(ids.map((id) => ctx.caches.configurations.get(id, () => findConfiguration(ctx.db, id))));
  return found.filter((configuration): configuration is ConfigurationRecord => configuration !== undefined);
}
