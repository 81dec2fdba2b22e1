import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import { withinPageBytes } from '../db/pages.js';
import type { Database } from '../db/schema.js';
import type { DocumentSignerMaterial } from '../formats/format.js';

/** Cache invalidation topic: any change of an IACA or a document signer changes which signer signs mDocs. */
export const DOCUMENT_SIGNER_TOPIC = 'document-signer';

/** The document signer to sign with, as each instance keeps it: when it must be replaced (managed signers only). */
export interface CurrentSigner {
  material: DocumentSignerMaterial;
  rotateAt: Date | null;
}

/** An IACA without its private key. */
export interface IacaRow {
  id: string;
  seq: string;
  active: boolean;
  managed: boolean;
  certificate: Buffer;
  fingerprint: string;
  not_before: Date;
  not_after: Date;
}

/** A document signer without its private key, with what it needs of its IACA. */
export interface DocumentSignerRow {
  id: string;
  seq: string;
  iaca_id: string;
  iaca_managed: boolean;
  active: boolean;
  csr: string | null;
  certificate: Buffer | null;
  not_before: Date | null;
  not_after: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

type NewIaca = Pick<Selectable<Database['iacas']>, 'id' | 'certificate' | 'fingerprint' | 'not_before' | 'not_after' | 'private_key'>;
type NewDocumentSigner = Pick<Selectable<Database['document_signers']>, 'id' | 'iaca_id' | 'active' | 'private_key' | 'csr' | 'certificate' | 'not_before' | 'not_after'>;

const IACA_COLUMNS = ['id', 'seq', 'active', 'certificate', 'fingerprint', 'not_before', 'not_after'] as const;

/**
 * Serialises the changes that count or choose IACAs and document signers across instances (at most
 * three active IACAs; one automatic document signer at a time), until the transaction ends.
 */
export async function lockIacas(trx: Tx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('vci-issuer:iacas'))`.execute(trx);
}

/** The same lock, unless another transaction holds it: false then. */
export async function tryLockIacas(trx: Tx): Promise<boolean> {
  const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(hashtext('vci-issuer:iacas')) AS locked`.execute(trx);
  return rows[0]!.locked;
}

const iacas = (db: Db | Tx) => db.selectFrom('iacas').select([...IACA_COLUMNS, sql<boolean>`private_key IS NOT NULL`.as('managed')]);

export async function insertIaca(trx: Tx, iaca: NewIaca): Promise<IacaRow> {
  await trx.insertInto('iacas').values({ ...iaca, updated_at: new Date() }).execute();
  return (await findIaca(trx, iaca.id))!;
}

/** The error of an insert of an IACA certificate that is registered already. */
export function isDuplicateIaca(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'iacas_fingerprint_key';
}

export async function findIaca(db: Db | Tx, id: string): Promise<IacaRow | undefined> {
  return iacas(db).where('id', '=', id).executeTakeFirst();
}

/** A managed IACA's sealed private key. */
export async function findIacaKey(db: Db | Tx, id: string): Promise<Buffer | undefined> {
  return (await db.selectFrom('iacas').select('private_key').where('id', '=', id).executeTakeFirst())?.private_key ?? undefined;
}

/** Newest first, within PAGE_BYTES. */
export async function listIacas(db: Db, page: { limit: number; beforeSeq?: string }) {
  let query = iacas(db);
  if (page.beforeSeq) query = query.where('seq', '<', page.beforeSeq);
  return withinPageBytes(db, query.orderBy('seq', 'desc').limit(page.limit + 1), page.limit);
}

export async function countActiveIacas(trx: Tx): Promise<number> {
  const row = await trx.selectFrom('iacas').select((eb) => eb.fn.countAll<string>().as('count')).where('active', '=', true).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function setIacaActive(trx: Tx, id: string, active: boolean): Promise<IacaRow | undefined> {
  await trx.updateTable('iacas').set({ active, updated_at: new Date() }).where('id', '=', id).execute();
  return findIaca(trx, id);
}

/** Deletes an IACA with its document signers and revocations. */
export async function deleteIaca(trx: Tx, id: string): Promise<void> {
  await trx.deleteFrom('iacas').where('id', '=', id).execute();
}

const signers = (db: Db | Tx) =>
  db
    .selectFrom('document_signers as d')
    .innerJoin('iacas as i', 'i.id', 'd.iaca_id')
    .select([
      'd.id',
      'd.seq',
      'd.iaca_id',
      'd.active',
      'd.csr',
      'd.certificate',
      'd.not_before',
      'd.not_after',
      'd.revoked_at',
      'd.created_at',
      sql<boolean>`i.private_key IS NOT NULL`.as('iaca_managed'),
    ]);

export async function insertDocumentSigner(trx: Tx, signer: NewDocumentSigner): Promise<DocumentSignerRow> {
  await trx.insertInto('document_signers').values({ ...signer, updated_at: new Date() }).execute();
  return (await findDocumentSigner(trx, signer.id))!;
}

export async function findDocumentSigner(db: Db | Tx, id: string): Promise<DocumentSignerRow | undefined> {
  return signers(db).where('d.id', '=', id).executeTakeFirst();
}

/** A document signer's sealed private key. */
export async function findDocumentSignerKey(db: Db | Tx, id: string): Promise<Buffer | undefined> {
  return (await db.selectFrom('document_signers').select('private_key').where('id', '=', id).executeTakeFirst())?.private_key;
}

/** Newest first, within PAGE_BYTES; of one IACA when `iacaId` is given. */
export async function listDocumentSigners(db: Db, page: { limit: number; beforeSeq?: string; iacaId?: string }) {
  let query = signers(db);
  if (page.iacaId) query = query.where('d.iaca_id', '=', page.iacaId);
  if (page.beforeSeq) query = query.where('d.seq', '<', page.beforeSeq);
  return withinPageBytes(db, query.orderBy('d.seq', 'desc').limit(page.limit + 1), page.limit);
}

export async function updateDocumentSigner(
  trx: Tx,
  id: string,
  change: { active: boolean; certificate?: { der: Buffer; notBefore: Date; notAfter: Date } },
): Promise<DocumentSignerRow | undefined> {
  const certificate = change.certificate && { certificate: change.certificate.der, not_before: change.certificate.notBefore, not_after: change.certificate.notAfter };
  await trx
    .updateTable('document_signers')
    .set({ active: change.active, ...certificate, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
  return findDocumentSigner(trx, id);
}

/** Revokes a document signer; its certificate, if it has one, goes on its IACA's CRL. */
export async function revokeDocumentSigner(trx: Tx, id: string, certificateSerial: string | undefined): Promise<DocumentSignerRow | undefined> {
  const row = await trx
    .updateTable('document_signers')
    // Whole seconds, as the CRL (RFC 5280 §5.1.2.6, UTCTime) will say it.
    .set({ active: false, revoked_at: sql<Date>`date_trunc('second', now())`, updated_at: new Date() })
    .where('id', '=', id)
    .returning(['iaca_id', 'revoked_at'])
    .executeTakeFirst();
  if (!row) return undefined;
  if (certificateSerial) {
    await trx.insertInto('iaca_revocations').values({ iaca_id: row.iaca_id, serial_number: certificateSerial, revoked_at: row.revoked_at! }).execute();
  }
  return findDocumentSigner(trx, id);
}

export async function deleteDocumentSigner(trx: Tx, id: string): Promise<boolean> {
  return (await trx.deleteFrom('document_signers').where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
}

/** What an IACA's CRL lists, and the database's clock (one clock for every instance: the CRL number grows with it). */
export async function listRevocations(db: Db, iacaId: string): Promise<{ now: Date; revoked: { serialNumber: string; revokedAt: Date }[] }> {
  const { rows } = await sql<{ now: Date; serial_number: string | null; revoked_at: Date | null }>`
    SELECT clock_timestamp() AS now, r.serial_number, r.revoked_at
    FROM (SELECT 1) AS one LEFT JOIN iaca_revocations r ON r.iaca_id = ${iacaId}
    ORDER BY r.revoked_at, r.serial_number`.execute(db);
  return {
    now: rows[0]!.now,
    revoked: rows.filter((row) => row.serial_number !== null).map((row) => ({ serialNumber: row.serial_number!, revokedAt: row.revoked_at! })),
  };
}

/** An active IACA, for choosing the document signer to sign with. */
export interface SigningIaca {
  id: string;
  managed: boolean;
  not_before: Date;
  not_after: Date;
}

/** An active, unrevoked document signer with a certificate, of an active IACA. */
export interface SigningCandidate {
  id: string;
  iaca_id: string;
  certificate: Buffer;
  not_before: Date;
  not_after: Date;
  created_at: Date;
}

/** Every active IACA and every document signer that could sign under one (a handful of rows). */
export async function listSigningCandidates(db: Db | Tx): Promise<{ iacas: SigningIaca[]; signers: SigningCandidate[] }> {
  const activeIacas = await db
    .selectFrom('iacas')
    .select(['id', 'not_before', 'not_after', sql<boolean>`private_key IS NOT NULL`.as('managed')])
    .where('active', '=', true)
    .execute();
  const candidates = await db
    .selectFrom('document_signers as d')
    .innerJoin('iacas as i', 'i.id', 'd.iaca_id')
    .select(['d.id', 'd.iaca_id', 'd.certificate', 'd.not_before', 'd.not_after', 'd.created_at'])
    .where('i.active', '=', true)
    .where('d.active', '=', true)
    .where('d.revoked_at', 'is', null)
    .where('d.certificate', 'is not', null)
    .execute();
  return { iacas: activeIacas, signers: candidates as SigningCandidate[] };
}

/** Every managed IACA's and document signer's sealed private key (for sealing them again under a new SECRET). */
export async function listSealedIacaKeys(db: Db): Promise<{ table: 'iacas' | 'document_signers'; id: string; private_key: Buffer }[]> {
  const iacaKeys = await db.selectFrom('iacas').select(['id', 'private_key']).where('private_key', 'is not', null).execute();
  const signerKeys = await db.selectFrom('document_signers').select(['id', 'private_key']).execute();
  return [
    ...iacaKeys.map((row) => ({ table: 'iacas' as const, id: row.id, private_key: row.private_key! })),
    ...signerKeys.map((row) => ({ table: 'document_signers' as const, id: row.id, private_key: row.private_key })),
  ];
}

/** Replaces a sealed private key, unless it changed since it was read. */
export async function replaceSealedIacaKey(db: Db, key: { table: 'iacas' | 'document_signers'; id: string }, from: Buffer, to: Buffer): Promise<void> {
  await db.updateTable(key.table).set({ private_key: to }).where('id', '=', key.id).where('private_key', '=', from).execute();
}
