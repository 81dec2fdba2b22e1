import type { AppContext } from '../context.js';
import type { Tx } from '../db/database.js';
import { audited, type AuditContext } from '../events/audit.js';
import { IssuanceDenied, type DocumentSignerMaterial } from '../formats/format.js';
import { iacaSubjectFields, parseCertificate, privateKeyObject } from './certificates.js';
import {
  DOCUMENT_SIGNER_TOPIC,
  findDocumentSigner,
  findDocumentSignerKey,
  findIaca,
  findIacaKey,
  listSigningCandidates,
  lockIacas,
  tryLockIacas,
  type CurrentSigner,
  type SigningCandidate,
  type SigningIaca,
} from './store.js';
import { DOCUMENT_SIGNER_EVENTS, issueManagedSigner } from './use-cases.js';

const DAY_MS = 24 * 3600 * 1000;
/**
 * A managed IACA's document signer signs for 30 days, then the next signing issues a new one. Its
 * certificate lasts 457 days (Annex B.1.4's most), so what it signs in those 30 days can always be
 * valid for the 427 days an mDL may have: a signer is never near its end while it signs. Frequent
 * rotation also keeps the number of mDocs one key signs small.
 */
export const ROTATE_AFTER_DAYS = 30;

export type SignerChoice =
  | { kind: 'use'; signer: SigningCandidate; iaca: SigningIaca }
  /** Issue a new signer under this managed IACA (none usable, or the best is due for rotation). */
  | { kind: 'issue'; iaca: SigningIaca; current?: { signer: SigningCandidate; iaca: SigningIaca } }
  | { kind: 'none'; reason: string };

const validAt = (window: { not_before: Date; not_after: Date }, now: Date) => window.not_before <= now && now < window.not_after;
const rotateAt = (signer: SigningCandidate, iaca: SigningIaca) => (iaca.managed ? new Date(signer.created_at.getTime() + ROTATE_AFTER_DAYS * DAY_MS) : null);

/**
 * Which document signer signs at `now`: of the active IACAs valid now, the active, unrevoked signer
 * whose certificate is valid now and lasts longest. A managed IACA gets a new signer when none is
 * usable or the chosen one is due for rotation; an unmanaged one's signers come from its owner.
 */
export function chooseSigner(candidates: { iacas: SigningIaca[]; signers: SigningCandidate[] }, now: Date): SignerChoice {
  const iacas = candidates.iacas.filter((iaca) => validAt(iaca, now));
  const usable = candidates.signers
    .map((signer) => ({ signer, iaca: iacas.find((iaca) => iaca.id === signer.iaca_id) }))
    .filter((pair): pair is { signer: SigningCandidate; iaca: SigningIaca } => pair.iaca !== undefined && validAt(pair.signer, now))
    .sort((a, b) => b.signer.not_after.getTime() - a.signer.not_after.getTime() || b.signer.created_at.getTime() - a.signer.created_at.getTime());
  const best = usable[0];
  const replaceAt = best && rotateAt(best.signer, best.iaca);
  if (best && !(replaceAt && replaceAt <= now)) return { kind: 'use', ...best };
  const managed = iacas.filter((iaca) => iaca.managed).sort((a, b) => b.not_after.getTime() - a.not_after.getTime())[0];
  if (managed) return { kind: 'issue', iaca: managed, ...(best && { current: best }) };
  if (best) return { kind: 'use', ...best };
  if (!candidates.iacas.length) return { kind: 'none', reason: 'No IACA is active: activate one (PUT /v2/credentials/mobile/iacas/{id} {"active": true})' };
  if (!iacas.length) return { kind: 'none', reason: 'No active IACA is valid now (expired or not yet valid)' };
  return { kind: 'none', reason: 'No document signer of an active IACA has a certificate valid now: install one (PUT /v2/credentials/mobile/document-signers/{id})' };
}

type Deps = Pick<AppContext, 'config' | 'db' | 'secrets' | 'invalidations' | 'caches'>;

async function materialOf(db: Deps['db'] | Tx, deps: Pick<Deps, 'secrets'>, signer: SigningCandidate, iaca: SigningIaca): Promise<CurrentSigner> {
  const sealed = (await findDocumentSignerKey(db, signer.id))!;
  const { country, stateOrProvince } = iacaSubjectFields(parseCertificate(signer.certificate));
  return {
    material: Object.freeze({
      reference: `mdoc-ds:${signer.id}`,
      privateKey: privateKeyObject(deps.secrets.decrypt(sealed)),
      certificate: signer.certificate,
      notBefore: new Date(Math.max(signer.not_before.getTime(), iaca.not_before.getTime())),
      notAfter: new Date(Math.min(signer.not_after.getTime(), iaca.not_after.getTime())),
      country,
      ...(stateOrProvince && { stateOrProvince }),
    }),
    rotateAt: rotateAt(signer, iaca),
  };
}

/**
 * A document signer by id, whatever its state now, while it and its IACA exist: a status list stays
 * signed by the signer of its mDocs (their verifiers hold its IACA).
 */
export async function documentSignerById(deps: Pick<Deps, 'db' | 'secrets'>, id: string): Promise<DocumentSignerMaterial | undefined> {
  const row = await findDocumentSigner(deps.db, id);
  const iaca = row?.certificate && (await findIaca(deps.db, row.iaca_id));
  if (!row?.certificate || !row.not_before || !row.not_after || !iaca) return undefined;
  const signer: SigningCandidate = { id: row.id, iaca_id: row.iaca_id, certificate: row.certificate, not_before: row.not_before, not_after: row.not_after, created_at: row.created_at };
  return (await materialOf(deps.db, deps, signer, { id: iaca.id, managed: iaca.managed, not_before: iaca.not_before, not_after: iaca.not_after })).material;
}

const usableAt = (current: CurrentSigner, now: Date) => current.material.notBefore <= now && now < current.material.notAfter;

/** The signer a read of the database would pick now, if one is usable (due for rotation or not). */
async function loadCurrent(deps: Deps, now: Date): Promise<CurrentSigner | undefined> {
  const choice = chooseSigner(await listSigningCandidates(deps.db), now);
  const usable = choice.kind === 'use' ? choice : choice.kind === 'issue' ? choice.current : undefined;
  return usable && materialOf(deps.db, deps, usable.signer, usable.iaca);
}

/**
 * The document signer to sign an mDoc with now (IssuanceDeps.documentSigner). Each instance keeps
 * a copy (at most 10 s, dropped when an IACA or a signer changes). When none is usable or the
 * current one is due for rotation, a managed IACA issues a new one: under a lock, so that instances
 * and concurrent requests issue one between them; a request that finds another rotating signs with
 * the current signer meanwhile. Throws IssuanceDenied when nothing can sign.
 */
export async function documentSignerFor(deps: Deps, audit: AuditContext): Promise<DocumentSignerMaterial> {
  const now = new Date();
  const cached = await deps.caches.documentSigner.get('current', () => loadCurrent(deps, now), (current) => usableAt(current, now));
  const current = cached && usableAt(cached, now) ? cached : undefined;
  if (current && (!current.rotateAt || now < current.rotateAt)) return current.material;
  return audited(deps, audit, DOCUMENT_SIGNER_EVENTS.create, async (trx) => {
    if (current) {
      if (!(await tryLockIacas(trx))) return { result: current.material, data: null };
    } else {
      await lockIacas(trx);
    }
    const choice = chooseSigner(await listSigningCandidates(trx), now);
    if (choice.kind === 'none') throw new IssuanceDenied(`No document signer can sign this mDoc. ${choice.reason}`);
    if (choice.kind === 'use') return { result: (await materialOf(trx, deps, choice.signer, choice.iaca)).material, data: null };
    const iaca = (await findIaca(trx, choice.iaca.id))!;
    const created = await issueManagedSigner(trx, deps, { id: iaca.id, certificate: iaca.certificate, sealedKey: (await findIacaKey(trx, iaca.id))! });
    const signer: SigningCandidate = { id: created.id, iaca_id: iaca.id, certificate: created.certificate!, not_before: created.not_before!, not_after: created.not_after!, created_at: created.created_at };
    return {
      result: (await materialOf(trx, deps, signer, choice.iaca)).material,
      data: { documentSignerId: created.id, iacaId: iaca.id, rotatedFrom: choice.current?.signer.id ?? null, automatic: true },
      changed: [{ topic: DOCUMENT_SIGNER_TOPIC, key: '*' }],
    };
  });
}
