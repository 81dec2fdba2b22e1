import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.js';

/** Cache invalidation topic: a rotation or an upload announces a new active key. */
export const ISSUER_KEY_TOPIC = 'issuer-key';

export type PublicJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string };

export interface IssuerKeyRow {
  kid: string;
  public_jwk: PublicJwk;
  /** PKCS#8 DER, sealed with SecretKeys.encrypt. */
  private_key: Buffer;
  /** Base64 DER, leaf first. */
  certificate_chain: string[];
  status: 'active' | 'retired';
  created_at: Date;
  retired_at: Date | null;
  publish_until: Date | null;
}

export type NewIssuerKey = Pick<IssuerKeyRow, 'kid' | 'public_jwk' | 'private_key' | 'certificate_chain'>;

const PUBLIC_COLUMNS = ['kid', 'public_jwk', 'certificate_chain', 'status', 'created_at', 'retired_at', 'publish_until'] as const;
export type IssuerKeyPublicRow = Omit<IssuerKeyRow, 'private_key'>;

/** Serialises every change of the active key across instances (held until the transaction ends). */
export async function lockIssuerKeys(trx: Tx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('vci-issuer:issuer_keys'))`.execute(trx);
}

export async function findActiveKey(db: Db | Tx): Promise<IssuerKeyRow | undefined> {
  return (await db.selectFrom('issuer_keys').selectAll().where('status', '=', 'active').executeTakeFirst()) as IssuerKeyRow | undefined;
}

/** A key by its kid, active or retired. */
export async function findKey(db: Db | Tx, kid: string): Promise<IssuerKeyRow | undefined> {
  return (await db.selectFrom('issuer_keys').selectAll().where('kid', '=', kid).executeTakeFirst()) as IssuerKeyRow | undefined;
}

export async function keyExists(db: Db | Tx, kid: string): Promise<boolean> {
  return Boolean(await db.selectFrom('issuer_keys').select('kid').where('kid', '=', kid).executeTakeFirst());
}

export async function insertActiveKey(db: Db | Tx, key: NewIssuerKey): Promise<IssuerKeyPublicRow> {
  return (await db
    .insertInto('issuer_keys')
    .values({ ...key, public_jwk: JSON.stringify(key.public_jwk), status: 'active' })
    .returning(PUBLIC_COLUMNS)
    .executeTakeFirstOrThrow()) as IssuerKeyPublicRow;
}

/**
 * Retires the active key. It stays published until the last credential it signed expires: the
 * latest `expires_at`, for ever (NULL) if one never expires, or from now on not at all if it signed none.
 */
export async function retireActiveKey(trx: Tx): Promise<IssuerKeyPublicRow | undefined> {
  return (await trx
    .updateTable('issuer_keys')
    .set({
      status: 'retired',
      retired_at: sql<Date>`now()`,
      publish_until: sql<Date | null>`(
        SELECT CASE WHEN count(*) = 0 THEN now() WHEN bool_or(ci.expires_at IS NULL) THEN NULL ELSE max(ci.expires_at) END
        FROM credential_issuances ci WHERE ci.issuer_kid = issuer_keys.kid)`,
    })
    .where('status', '=', 'active')
    .returning(PUBLIC_COLUMNS)
    .executeTakeFirst()) as IssuerKeyPublicRow | undefined;
}

export async function listKeys(db: Db | Tx): Promise<IssuerKeyPublicRow[]> {
  return (await db.selectFrom('issuer_keys').select(PUBLIC_COLUMNS).orderBy('created_at', 'desc').orderBy('kid').execute()) as IssuerKeyPublicRow[];
}

/**
 * The keys a verifier may need: the active one, and each retired one until `publish_until`. A key
 * also stays while a credential it signed is unexpired: instances keep signing with a retired key
 * for up to the signing-key cache's lifetime after a rotation, after publish_until was computed.
 */
export async function listPublishedKeys(db: Db | Tx): Promise<IssuerKeyPublicRow[]> {
  return (await db
    .selectFrom('issuer_keys as k')
    .select(PUBLIC_COLUMNS.map((column) => `k.${column}` as const))
    .where((eb) =>
      eb.or([
        eb('k.status', '=', 'active'),
        eb('k.publish_until', 'is', null),
        eb('k.publish_until', '>', sql<Date>`now()`),
        eb.exists(
          eb
            .selectFrom('credential_issuances as ci')
            .select(sql`1`.as('one'))
            .whereRef('ci.issuer_kid', '=', 'k.kid')
            .where((inner) => inner.or([inner('ci.expires_at', 'is', null), inner('ci.expires_at', '>', sql<Date>`now()`)])),
        ),
      ]),
    )
    .orderBy('k.created_at', 'desc')
    .orderBy('k.kid')
    .execute()) as IssuerKeyPublicRow[];
}

/** Every issuer key's sealed private key (for sealing them again under a new SECRET). */
export async function listSealedIssuerKeys(db: Db): Promise<{ kid: string; private_key: Buffer }[]> {
  return db.selectFrom('issuer_keys').select(['kid', 'private_key']).execute();
}

/** Replaces a sealed private key, unless it changed since it was read. */
export async function replaceSealedIssuerKey(db: Db, kid: string, from: Buffer, to: Buffer): Promise<void> {
  await db.updateTable('issuer_keys').set({ private_key: to }).where('kid', '=', kid).where('private_key', '=', from).execute();
}
