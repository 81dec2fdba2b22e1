import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { StatusReference } from '../formats/format.js';
import { documentSignerById } from '../iacas/signer.js';
import { loadKeyByKid } from '../keys/signing-key.js';
import type { StatusListKind } from '../protocol.js';
import { compressedStatusList } from './encoding.js';
import { findStatusList, listCurrentStatusLists, listSetEntries, saveToken, type EntryRequest, type StatusListRow } from './store.js';
import { aggregationUri, statusListUri } from './uris.js';
import { STATUS_LIST_MEDIA_TYPES, signCwtStatusList, signJwtStatusList, type StatusListContent } from './tokens.js';


/**
 * `count` fresh entries for credentials about to be signed by `signer` (one each: never shared,
 * never used again). Handed out before signing, since the credentials carry them: an issuance that
 * then fails leaves its entries unused, valid forever, indistinguishable from the others.
 */
export async function allocateStatusReferences(
  deps: Pick<AppContext, 'allocateStatusEntries' | 'config'>,
  request: EntryRequest,
): Promise<StatusReference[]> {
  const entries = await deps.allocateStatusEntries(request);
  return entries.map((entry) => ({ ...entry, uri: statusListUri(deps.config, request.kind, entry.listId) }));
}

/** A signed Status List Token as served: the same bytes from every instance until the list changes. */
export interface ServedStatusList {
  kind: StatusListKind;
  mediaType: string;
  bytes: Buffer;
  etag: string;
  issuedAt: Date;
  expiresAt: Date;
  /** Its exp is its signer's last moment: no later token could last longer, so it is not signed again before a change. */
  atSignerEnd: boolean;
}

type Deps = Pick<AppContext, 'config' | 'db' | 'secrets' | 'caches'>;

const served = (row: Pick<StatusListRow, 'kind' | 'signer_expires_at'>, token: { bytes: Buffer; issuedAt: Date; expiresAt: Date }): ServedStatusList => ({
  kind: row.kind,
  atSignerEnd: row.signer_expires_at !== null && token.expiresAt.getTime() >= row.signer_expires_at.getTime(),
  mediaType: STATUS_LIST_MEDIA_TYPES[row.kind],
  bytes: token.bytes,
  etag: `"${createHash('sha256').update(token.bytes).digest('base64url').slice(0, 27)}"`,
  issuedAt: token.issuedAt,
  expiresAt: token.expiresAt,
});

/**
 * The token of a list (§8.1), or undefined when there is no such list or nothing can sign it any
 * more. A token is signed after a change of the list, or once less than a `ttl` of it is left, and
 * kept in the database so that every instance serves it; each instance keeps a copy, dropped when a
 * change is announced (LISTEN/NOTIFY: milliseconds after the change commits; an instance whose
 * listener falls behind stops trusting its caches, see db/invalidation.ts).
 */
export async function statusListToken(deps: Deps, listId: string): Promise<ServedStatusList | undefined> {
  const { ttlSeconds } = deps.config.statusLists;
  const fresh = (token: Pick<ServedStatusList, 'expiresAt' | 'atSignerEnd'>) => {
    const left = token.expiresAt.getTime() - Date.now();
    return left > 0 && (token.atSignerEnd || left > ttlSeconds * 1000);
  };
  return deps.caches.statusListTokens.get(
    listId,
    async () => {
      const row = await findStatusList(deps.db, listId);
      if (!row) return undefined;
      const stored = row.signed && served(row, { bytes: row.signed, issuedAt: row.signed_at!, expiresAt: row.signed_until! });
      if (stored && row.signed_version === row.version && fresh(stored)) return stored;
      const token = await signStatusList(deps, row);
      if (token) await saveToken(deps.db, row.id, { ...token, version: row.version });
      return token && served(row, token);
    },
    fresh,
  );
}

async function signStatusList(deps: Deps, row: StatusListRow): Promise<{ bytes: Buffer; issuedAt: Date; expiresAt: Date } | undefined> {
  const { config } = deps;
  const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const compressed = compressedStatusList(row.size, row.bits, await listSetEntries(deps.db, row.id));
  const content = (expiresAt: Date): StatusListContent => ({
    uri: statusListUri(config, row.kind, row.id),
    bits: row.bits,
    list: compressed,
    aggregationUri: aggregationUri(config, row.kind),
    issuedAt,
    expiresAt,
    ttlSeconds: config.statusLists.ttlSeconds,
  });
  const wanted = new Date(issuedAt.getTime() + config.statusLists.expiresInSeconds * 1000);
  if (row.kind === 'jwt') {
    const key = await loadKeyByKid(deps, row.signer);
    if (!key) return undefined;
    return { bytes: Buffer.from(await signJwtStatusList(content(wanted), key)), issuedAt, expiresAt: wanted };
  }
  const signer = await documentSignerById(deps, row.signer.replace(/^mdoc-ds:/, ''));
  // A token never outlives its signer's certificate (nor, so, the mDocs it signed).
  if (!signer || signer.notAfter <= issuedAt) return undefined;
  const expiresAt = new Date(Math.min(wanted.getTime(), signer.notAfter.getTime()));
  return { bytes: signCwtStatusList(content(expiresAt), signer), issuedAt, expiresAt };
}

/** §9: the URIs of the lists of a kind whose signer can still sign them (MATTR VII's distribution shape). */
export async function statusListDistribution(deps: Pick<AppContext, 'config' | 'db'>, kind: StatusListKind): Promise<{ status_lists: string[] }> {
  return { status_lists: (await listCurrentStatusLists(deps.db, kind)).map((id) => statusListUri(deps.config, kind, id)) };
}
