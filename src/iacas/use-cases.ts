import { createPublicKey } from 'node:crypto';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { constantTimeEqual, resealEach, type SecretKeys } from '../crypto/secrets.js';
import type { Db, Tx } from '../db/database.js';
import { newRowId } from '../db/ids.js';
import { conflict, invalidInput, notFound } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import { addPeriod } from '../formats/format.js';
import { readPemBlocks } from '../keys/certificates.js';
import {
  BACKDATE_MS,
  IACA_DEFAULT_VALIDITY,
  IACA_MAX_VALIDITY,
  certificateData,
  createCertificateRequest,
  createCrl,
  createDocumentSignerCertificate,
  createIacaCertificate,
  documentSignerProblems,
  exportPrivateKey,
  fingerprint,
  generateKeyPair,
  iacaProblems,
  iacaSubjectFields,
  importPrivateKey,
  parseCertificate,
  privateKeyObject,
  toPem,
  type PublicationUris,
} from './certificates.js';
import { IACAS_PATH, type CreateIacaInput, type DocumentSigner, type Iaca, type UpdateDocumentSignerInput } from './schemas.js';
import {
  DOCUMENT_SIGNER_TOPIC,
  countActiveIacas,
  deleteDocumentSigner as deleteSignerRow,
  deleteIaca as deleteIacaRow,
  findDocumentSigner,
  findDocumentSignerKey,
  findIaca,
  findIacaKey,
  insertDocumentSigner,
  insertIaca,
  isDuplicateIaca,
  listDocumentSigners as listSignerRows,
  listIacas as listIacaRows,
  listRevocations,
  listSealedIacaKeys,
  lockIacas,
  replaceSealedIacaKey,
  revokeDocumentSigner as revokeSignerRow,
  setIacaActive,
  updateDocumentSigner as updateSignerRow,
  type DocumentSignerRow,
  type IacaRow,
} from './store.js';

const CATEGORY = 'MobileCredential';
export const IACA_EVENTS = {
  create: { type: 'MOBILE_CREDENTIAL_IACA_CREATE', category: CATEGORY },
  update: { type: 'MOBILE_CREDENTIAL_IACA_UPDATE', category: CATEGORY },
  delete: { type: 'MOBILE_CREDENTIAL_IACA_DELETE', category: CATEGORY },
} as const satisfies Record<string, EventKind>;
export const DOCUMENT_SIGNER_EVENTS = {
  create: { type: 'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_CREATE', category: CATEGORY },
  update: { type: 'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_UPDATE', category: CATEGORY },
  delete: { type: 'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_DELETE', category: CATEGORY },
  revoke: { type: 'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_REVOKE', category: CATEGORY },
} as const satisfies Record<string, EventKind>;

/** MATTR VII's limit: a verifier's trust list stays short, and an issuer rotates IACAs with an overlap of one or two. */
export const MAX_ACTIVE_IACAS = 3;

/** Every change of an IACA or a signer may change which signer signs: each instance drops its copy. */
const CHANGED = [{ topic: DOCUMENT_SIGNER_TOPIC, key: '*' }];

type Deps = Pick<AppContext, 'config' | 'db' | 'secrets' | 'invalidations'>;

/** Where an IACA's certificates point: the issuer (IAN) and the IACA's public CRL on this service's host. */
export function publicationUris(config: Config, iacaId: string): PublicationUris {
  return { issuer: config.publicUrl, crl: `${new URL(config.publicUrl).origin}${IACAS_PATH}/${iacaId}/crl` };
}

export function toIaca(row: IacaRow): Iaca {
  const certificate = parseCertificate(row.certificate);
  return {
    id: row.id,
    active: row.active,
    isManaged: row.managed,
    certificatePem: toPem(certificate),
    certificateData: certificateData(certificate),
    certificateFingerprint: row.fingerprint,
  };
}

export function toDocumentSigner(row: DocumentSignerRow): DocumentSigner {
  const certificate = row.certificate && parseCertificate(row.certificate);
  return {
    id: row.id,
    iacaId: row.iaca_id,
    active: row.active,
    isManaged: row.iaca_managed,
    ...(row.csr && { csrPem: row.csr }),
    ...(certificate && { certificatePem: toPem(certificate), certificateData: certificateData(certificate), certificateFingerprint: fingerprint(row.certificate!) }),
    revoked: row.revoked_at !== null,
    ...(row.revoked_at && { revocationDate: row.revoked_at.toISOString() }),
  };
}

/** The one certificate of a PEM field, or a 400 naming the field. */
function readCertificatePem(field: string, pem: string) {
  const blocks = readPemBlocks(pem);
  if (blocks?.length !== 1 || blocks[0]!.label !== 'CERTIFICATE') {
    throw invalidInput([{ field, message: 'must be exactly one PEM certificate (-----BEGIN CERTIFICATE-----)' }]);
  }
  try {
    return { der: blocks[0]!.der, certificate: parseCertificate(blocks[0]!.der) };
  } catch {
    throw invalidInput([{ field, message: 'is not a valid X.509 certificate' }]);
  }
}

/** The validity of a managed IACA: from now (backdated) or `notBefore`, for 10 years or until `notAfter`, at most 20. */
function managedValidity(input: CreateIacaInput, now: Date): { notBefore: Date; notAfter: Date } {
  const earliest = new Date(now.getTime() - BACKDATE_MS);
  const notBefore = input.notBefore ? new Date(input.notBefore) : earliest;
  if (notBefore < earliest) throw invalidInput([{ field: 'notBefore', message: 'must not be in the past' }]);
  const notAfter = input.notAfter ? new Date(input.notAfter) : addPeriod(notBefore, IACA_DEFAULT_VALIDITY);
  if (notAfter <= notBefore || notAfter <= now) throw invalidInput([{ field: 'notAfter', message: 'must be after notBefore and in the future' }]);
  if (notAfter > addPeriod(notBefore, IACA_MAX_VALIDITY)) throw invalidInput([{ field: 'notAfter', message: 'must be at most 20 years after notBefore (ISO/IEC 18013-5 Annex B.1.2)' }]);
  return { notBefore, notAfter };
}

/**
 * Registers an IACA, inactive: managed (a new key, sealed, and a self-signed certificate of the
 * Annex B profile) or unmanaged (a certificate checked against that profile; no key).
 */
export async function createIaca(ctx: Deps, audit: AuditContext, input: CreateIacaInput): Promise<Iaca> {
  const id = newRowId();
  const now = new Date();
  let row: { certificate: Buffer; not_before: Date; not_after: Date; private_key: Buffer | null };
  if (input.certificatePem !== undefined) {
    const { der, certificate } = readCertificatePem('certificatePem', input.certificatePem);
    const problems = await iacaProblems(certificate, now);
    if (problems.length) throw invalidInput([{ field: 'certificatePem', message: `is not an IACA certificate (ISO/IEC 18013-5 Annex B.1.2): ${problems.join('; ')}` }]);
    row = { certificate: der, not_before: certificate.notBefore, not_after: certificate.notAfter, private_key: null };
  } else {
    const { notBefore, notAfter } = managedValidity(input, now);
    const keys = await generateKeyPair();
    const subject = { country: input.country!, stateOrProvince: input.stateOrProvinceName, commonName: input.commonName ?? `${ctx.config.issuerName} IACA` };
    const certificate = await createIacaCertificate(keys, { subject, notBefore, notAfter, uris: publicationUris(ctx.config, id) });
    row = {
      certificate: Buffer.from(certificate.rawData),
      not_before: certificate.notBefore,
      not_after: certificate.notAfter,
      private_key: ctx.secrets.encrypt(await exportPrivateKey(keys.privateKey)),
    };
  }
  return audited(ctx, audit, IACA_EVENTS.create, async (trx) => {
    const created = await insertIaca(trx, { id, ...row, fingerprint: fingerprint(row.certificate) });
    return { result: toIaca(created), data: { iacaId: id, isManaged: created.managed }, changed: CHANGED };
  }).catch((error: unknown) => {
    throw isDuplicateIaca(error) ? conflict('This IACA certificate is registered already') : error;
  });
}

export async function getIaca(ctx: Pick<AppContext, 'db'>, id: string): Promise<Iaca> {
  const row = await findIaca(ctx.db, id);
  if (!row) throw notFound('IACA');
  return toIaca(row);
}

export const listIacas = (ctx: Pick<AppContext, 'db'>, page: { limit: number; beforeSeq?: string }) => listIacaRows(ctx.db, page);

/** Activates (at most three at once, valid now) or deactivates an IACA. */
export async function updateIaca(ctx: Deps, audit: AuditContext, id: string, input: { active: boolean }): Promise<Iaca> {
  return audited(ctx, audit, IACA_EVENTS.update, async (trx) => {
    await lockIacas(trx);
    const row = await findIaca(trx, id);
    if (!row) throw notFound('IACA');
    if (input.active && !row.active) {
      if (row.not_after <= new Date()) throw invalidInput([{ field: 'active', message: `the IACA certificate expired on ${row.not_after.toISOString()}` }]);
      if ((await countActiveIacas(trx)) >= MAX_ACTIVE_IACAS) throw conflict(`At most ${MAX_ACTIVE_IACAS} IACAs can be active at once; deactivate one first`);
    }
    const updated = (await setIacaActive(trx, id, input.active))!;
    return { result: toIaca(updated), data: { iacaId: id, active: input.active }, changed: CHANGED };
  });
}

/** Deletes an inactive IACA with its document signers. */
export async function deleteIaca(ctx: Deps, audit: AuditContext, id: string): Promise<void> {
  await audited(ctx, audit, IACA_EVENTS.delete, async (trx) => {
    await lockIacas(trx);
    const row = await findIaca(trx, id);
    if (!row) throw notFound('IACA');
    if (row.active) throw conflict('The IACA is active; deactivate it first (PUT { "active": false })');
    await deleteIacaRow(trx, id);
    return { result: undefined, data: { iacaId: id }, changed: CHANGED };
  });
}

/** The IACA certificate (PEM): the trust anchor a verifier installs. */
export async function iacaCertificatePem(ctx: Pick<AppContext, 'db'>, id: string): Promise<string> {
  return (await getIaca(ctx, id)).certificatePem;
}

/** The CRL of a managed IACA (DER), signed now; its owner publishes an unmanaged IACA's. */
export async function iacaCrl(ctx: Pick<AppContext, 'db' | 'secrets'>, id: string): Promise<Buffer> {
  const row = await findIaca(ctx.db, id);
  if (!row) throw notFound('IACA');
  const sealed = await findIacaKey(ctx.db, id);
  if (!sealed) throw notFound("The CRL of this IACA (its owner keeps its key and publishes its CRL)");
  const { now, revoked } = await listRevocations(ctx.db, id);
  const crl = await createCrl({
    iaca: parseCertificate(row.certificate),
    iacaKey: await importPrivateKey(ctx.secrets.decrypt(sealed)),
    revoked,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 24 * 3600 * 1000),
  });
  return Buffer.from(crl.rawData);
}

/** The subject of a document signer: its IACA's country and state, and a common name of its own. */
const signerCommonName = (config: Config) => `${config.issuerName} Document Signer`.slice(0, 64);

/**
 * Issues a document signer certificate under a managed IACA, for a new key, inside `trx`. Used by
 * the management API and, when no signer is usable or the current one is due for rotation, at signing.
 */
export async function issueManagedSigner(trx: Tx, deps: { config: Config; secrets: SecretKeys }, iaca: { id: string; certificate: Buffer; sealedKey: Buffer }) {
  const iacaCertificate = parseCertificate(iaca.certificate);
  const keys = await generateKeyPair();
  const notBefore = new Date(Math.max(Date.now() - BACKDATE_MS, iacaCertificate.notBefore.getTime()));
  const certificate = await createDocumentSignerCertificate({
    iaca: iacaCertificate,
    iacaKey: await importPrivateKey(deps.secrets.decrypt(iaca.sealedKey)),
    publicKey: keys.publicKey,
    commonName: signerCommonName(deps.config),
    notBefore,
    uris: publicationUris(deps.config, iaca.id),
  });
  return insertDocumentSigner(trx, {
    id: newRowId(),
    iaca_id: iaca.id,
    active: true,
    private_key: deps.secrets.encrypt(await exportPrivateKey(keys.privateKey)),
    csr: null,
    certificate: Buffer.from(certificate.rawData),
    not_before: certificate.notBefore,
    not_after: certificate.notAfter,
  });
}

/**
 * A document signer for an IACA that is valid now. Under a managed IACA its certificate is issued at
 * once and it is active; under an unmanaged one it is inactive and answers the CSR for the IACA's
 * owner to sign (then `PUT { certificatePem, active }`).
 */
export async function createDocumentSigner(ctx: Deps, audit: AuditContext, input: { iacaId: string }): Promise<DocumentSigner> {
  return audited(ctx, audit, DOCUMENT_SIGNER_EVENTS.create, async (trx) => {
    const iaca = await findIaca(trx, input.iacaId);
    if (!iaca) throw invalidInput([{ field: 'iacaId', message: `IACA ${input.iacaId} does not exist` }]);
    if (iaca.not_after <= new Date()) throw conflict(`The IACA certificate expired on ${iaca.not_after.toISOString()}`);
    let created: DocumentSignerRow;
    if (iaca.managed) {
      created = await issueManagedSigner(trx, ctx, { id: iaca.id, certificate: iaca.certificate, sealedKey: (await findIacaKey(trx, iaca.id))! });
    } else {
      const keys = await generateKeyPair();
      const subject = { ...iacaSubjectFields(parseCertificate(iaca.certificate)), commonName: signerCommonName(ctx.config) };
      const csr = await createCertificateRequest(keys, subject);
      created = await insertDocumentSigner(trx, {
        id: newRowId(),
        iaca_id: iaca.id,
        active: false,
        private_key: ctx.secrets.encrypt(await exportPrivateKey(keys.privateKey)),
        csr: `${csr.toString('pem')}\n`,
        certificate: null,
        not_before: null,
        not_after: null,
      });
    }
    return { result: toDocumentSigner(created), data: { documentSignerId: created.id, iacaId: iaca.id }, changed: CHANGED };
  });
}

export async function getDocumentSigner(ctx: Pick<AppContext, 'db'>, id: string): Promise<DocumentSigner> {
  const row = await findDocumentSigner(ctx.db, id);
  if (!row) throw notFound('Document signer');
  return toDocumentSigner(row);
}

export const listDocumentSigners = (ctx: Pick<AppContext, 'db'>, page: { limit: number; beforeSeq?: string; iacaId?: string }) => listSignerRows(ctx.db, page);

/** The public key (SPKI DER) of a document signer's sealed private key: the key its CSR carries. */
function publicKeyOf(secrets: SecretKeys, sealed: Buffer): ArrayBuffer {
  const der = createPublicKey(privateKeyObject(secrets.decrypt(sealed))).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der).buffer;
}

/**
 * Installs the certificate the owner of an unmanaged IACA issued for the signer's CSR (it must carry
 * the CSR's key, chain to the IACA and match the Annex B.1.4 profile), and activates or deactivates
 * the signer.
 */
export async function updateDocumentSigner(ctx: Deps, audit: AuditContext, id: string, input: UpdateDocumentSignerInput): Promise<DocumentSigner> {
  return audited(ctx, audit, DOCUMENT_SIGNER_EVENTS.update, async (trx) => {
    await lockIacas(trx);
    const row = await findDocumentSigner(trx, id);
    if (!row) throw notFound('Document signer');
    let installed: { der: Buffer; notBefore: Date; notAfter: Date } | undefined;
    if (input.certificatePem !== undefined) {
      if (row.iaca_managed) throw invalidInput([{ field: 'certificatePem', message: 'the service issues the certificates of document signers of a managed IACA' }]);
      const { der, certificate } = readCertificatePem('certificatePem', input.certificatePem);
      if (row.certificate) {
        if (!constantTimeEqual(row.certificate, der)) throw conflict('This document signer has a certificate already; create a new document signer for another');
      } else {
        const iaca = (await findIaca(trx, row.iaca_id))!;
        const problems = await documentSignerProblems(certificate, parseCertificate(iaca.certificate), publicKeyOf(ctx.secrets, (await findDocumentSignerKey(trx, id))!), new Date());
        if (problems.length) {
          throw invalidInput([{ field: 'certificatePem', message: `is not a document signer certificate for this CSR (ISO/IEC 18013-5 Annex B.1.4): ${problems.join('; ')}` }]);
        }
        installed = { der, notBefore: certificate.notBefore, notAfter: certificate.notAfter };
      }
    }
    if (input.active) {
      if (row.revoked_at) throw conflict('A revoked document signer cannot be activated');
      if (!row.certificate && !installed) throw invalidInput([{ field: 'active', message: "install the document signer's certificate first (certificatePem)" }]);
    }
    const updated = (await updateSignerRow(trx, id, { active: input.active, certificate: installed }))!;
    return { result: toDocumentSigner(updated), data: { documentSignerId: id, active: input.active, certificateInstalled: Boolean(installed) }, changed: CHANGED };
  });
}

export async function deleteDocumentSigner(ctx: Deps, audit: AuditContext, id: string): Promise<void> {
  await audited(ctx, audit, DOCUMENT_SIGNER_EVENTS.delete, async (trx) => {
    if (!(await deleteSignerRow(trx, id))) throw notFound('Document signer');
    return { result: undefined, data: { documentSignerId: id }, changed: CHANGED };
  });
}

/** Revokes a document signer for good: it signs no more, and its certificate goes on its IACA's CRL. */
export async function revokeDocumentSigner(ctx: Deps, audit: AuditContext, id: string): Promise<{ revoked: true; revocationDate: string }> {
  return audited(ctx, audit, DOCUMENT_SIGNER_EVENTS.revoke, async (trx) => {
    await lockIacas(trx);
    const row = await findDocumentSigner(trx, id);
    if (!row) throw notFound('Document signer');
    if (row.revoked_at) throw conflict(`This document signer was revoked on ${row.revoked_at.toISOString()}`);
    const serial = row.certificate ? parseCertificate(row.certificate).serialNumber : undefined;
    const revoked = (await revokeSignerRow(trx, id, serial))!;
    const revocationDate = revoked.revoked_at!.toISOString();
    return { result: { revoked: true as const, revocationDate }, data: { documentSignerId: id, iacaId: row.iaca_id, revocationDate }, changed: CHANGED };
  });
}

/** After SECRET was rotated: IACA and document signer keys sealed under SECRET_PREVIOUS are sealed again under SECRET. Throws SecretUnknownError for one neither opens. */
export async function resealIacaKeys(deps: { db: Db; secrets: SecretKeys }): Promise<number> {
  return resealEach(deps.secrets, await listSealedIacaKeys(deps.db), (row) => row.private_key, (row, sealed) => replaceSealedIacaKey(deps.db, row, row.private_key, sealed));
}
