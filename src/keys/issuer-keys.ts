import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { resealEach, type SecretKeys } from '../crypto/secrets.js';
import type { Db, Tx } from '../db/database.js';
import { conflict, invalidInput } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import {
  EC_P256,
  allowsDigitalSignature,
  certificatePublicKey,
  generateCertificateChain,
  isSelfSigned,
  isSignedBy,
  parseCertificate,
  readPemBlocks,
  withoutTrustAnchor,
} from './certificates.js';
import {
  ISSUER_KEY_TOPIC,
  findActiveKey,
  insertActiveKey,
  keyExists,
  listKeys,
  listPublishedKeys,
  listSealedIssuerKeys,
  lockIssuerKeys,
  replaceSealedIssuerKey,
  retireActiveKey,
  type IssuerKeyPublicRow,
  type NewIssuerKey,
  type PublicJwk,
} from './store.js';

export type { PublicJwk } from './store.js';

export const ISSUER_KEY_EVENTS = {
  replace: { type: 'ISSUER_KEY_REPLACE', category: 'IssuerKey' },
  rotate: { type: 'ISSUER_KEY_ROTATE', category: 'IssuerKey' },
} as const satisfies Record<string, EventKind>;

type KeyDeps = { db: Db; secrets: SecretKeys; config: Config };

export interface IssuerKey {
  kid: string;
  status: 'active' | 'retired';
  publicJwk: PublicJwk;
  /** Base64 (not base64url) DER certificates, leaf first. */
  certificateChain: string[];
  createdAt: Date;
  retiredAt: Date | null;
  /** Retired keys: published in the JWKS until then; null is for ever. */
  publishUntil: Date | null;
}

export type PublishedJwk = PublicJwk & { kid: string; alg: 'ES256'; use: 'sig'; x5c: string[] };

export interface KeyReplacement {
  key: IssuerKey;
  /** The key that was active until now. */
  retired?: IssuerKey;
}

const MAX_CHAIN_CERTIFICATES = 10;

const toIssuerKey = (row: IssuerKeyPublicRow): IssuerKey => ({
  kid: row.kid,
  status: row.status,
  publicJwk: row.public_jwk,
  certificateChain: row.certificate_chain,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
  publishUntil: row.publish_until,
});

function publicJwkOf(key: KeyObject): PublicJwk {
  const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  return { kty: kty as 'EC', crv: crv as 'P-256', x: x!, y: y! };
}

async function sealKey(secrets: SecretKeys, privateKey: KeyObject, chain: string[]): Promise<NewIssuerKey> {
  const publicJwk = publicJwkOf(privateKey);
  return {
    // RFC 7638 thumbprint: the same key always gets the same kid, on every instance.
    kid: await calculateJwkThumbprint(publicJwk, 'sha256'),
    public_jwk: publicJwk,
    private_key: secrets.encrypt(privateKey.export({ type: 'pkcs8', format: 'der' })),
    certificate_chain: chain,
  };
}

async function generateKey(deps: Pick<KeyDeps, 'secrets' | 'config'>): Promise<NewIssuerKey> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const chain = await generateCertificateChain(keys, deps.config.publicUrl);
  return sealKey(deps.secrets, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), chain);
}

/** After SECRET was rotated: issuer keys sealed under SECRET_PREVIOUS are sealed again under SECRET. Throws SecretUnknownError for one neither opens. */
export async function resealIssuerKeys(deps: { db: Db; secrets: SecretKeys }): Promise<number> {
  return resealEach(deps.secrets, await listSealedIssuerKeys(deps.db), (row) => row.private_key, (row, sealed) => replaceSealedIssuerKey(deps.db, row.kid, row.private_key, sealed));
}

/** Creates the first signing key and its certificate chain unless an active key exists. Safe to run on every instance at once. */
export async function ensureActiveKey(deps: KeyDeps): Promise<IssuerKey> {
  const existing = await findActiveKey(deps.db);
  if (existing) return toIssuerKey(existing);
  const fresh = await generateKey(deps);
  return deps.db.transaction().execute(async (trx) => {
    await lockIssuerKeys(trx);
    const active = await findActiveKey(trx);
    return toIssuerKey(active ?? (await insertActiveKey(trx, fresh)));
  });
}

/** The JWKS for SD-JWT VC issuer metadata: the active key and the retired keys still needed to verify. */
export async function publishedJwks(deps: Pick<KeyDeps, 'db'>): Promise<{ keys: PublishedJwk[] }> {
  const rows = await listPublishedKeys(deps.db);
  const keys = await Promise.all(
    rows.map(async (row): Promise<PublishedJwk> => {
      const { kty, crv, x, y } = row.public_jwk;
      return { kty, crv, x, y, kid: row.kid, alg: 'ES256', use: 'sig', x5c: await withoutTrustAnchor(row.certificate_chain) };
    }),
  );
  return { keys };
}

/** Every key, newest first (never private material). */
export async function listIssuerKeys(deps: Pick<KeyDeps, 'db'>): Promise<IssuerKey[]> {
  return (await listKeys(deps.db)).map(toIssuerKey);
}

/**
 * Retires the active key and makes `key` the active one, in one transaction with its events; every
 * instance drops its copy of the signing key when it commits.
 */
async function activate(ctx: AppContext, audit: AuditContext, kind: EventKind, key: NewIssuerKey): Promise<KeyReplacement> {
  return audited(ctx, audit, kind, async (trx: Tx) => {
    await lockIssuerKeys(trx);
    if (await keyExists(trx, key.kid)) throw conflict(`This key is already an issuer key (kid ${key.kid}); upload a new key`);
    const retired = await retireActiveKey(trx);
    const active = await insertActiveKey(trx, key);
    const replacement = { key: toIssuerKey(active), retired: retired && toIssuerKey(retired) };
    return { result: replacement, data: { kid: replacement.key.kid, retiredKid: replacement.retired?.kid ?? null }, changed: [{ topic: ISSUER_KEY_TOPIC, key: '*' }] };
  });
}

/** Replaces the active key with a new generated key and certificate chain. */
export async function rotateKey(ctx: AppContext, audit: AuditContext): Promise<KeyReplacement> {
  return activate(ctx, audit, ISSUER_KEY_EVENTS.rotate, await generateKey(ctx));
}

export interface UploadedKey {
  /** PEM of a P-256 key: PKCS#8 (BEGIN PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY). */
  privateKeyPem: string;
  /** PEM certificates, leaf (for privateKeyPem) first, each followed by its issuer. */
  certificateChainPem: string;
}

/** Replaces the active key with an uploaded key and certificate chain. Invalid input is a 400 naming the field. */
export async function replaceKey(ctx: AppContext, audit: AuditContext, upload: UploadedKey): Promise<KeyReplacement> {
  const privateKey = readPrivateKey(upload.privateKeyPem);
  const chain = await readCertificateChain(upload.certificateChainPem, privateKey);
  return activate(ctx, audit, ISSUER_KEY_EVENTS.replace, await sealKey(ctx.secrets, privateKey, chain));
}

const invalid = (field: keyof UploadedKey, message: string) => invalidInput([{ field, message }]);

/** `openssl ecparam -genkey` writes the curve's parameters before the key; they say nothing the key does not. */
const KEY_FORMATS: Record<string, 'pkcs8' | 'sec1'> = { 'PRIVATE KEY': 'pkcs8', 'EC PRIVATE KEY': 'sec1' };
const DECRYPT = 'decrypt it first: openssl pkcs8 -in key.pem -out key.pk8.pem';

/** A P-256 private key as PKCS#8 (BEGIN PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY, RFC 5915), unencrypted. */
function readPrivateKey(pem: string): KeyObject {
  if (/Proc-Type:\s*4,ENCRYPTED/.test(pem)) throw invalid('privateKeyPem', `Is encrypted; ${DECRYPT}`);
  const blocks = readPemBlocks(pem)?.filter((block) => block.label !== 'EC PARAMETERS');
  if (blocks?.length !== 1) throw invalid('privateKeyPem', 'Must be exactly one PEM block (-----BEGIN PRIVATE KEY-----)');
  const [{ label, der }] = blocks as [(typeof blocks)[number]];
  if (label === 'ENCRYPTED PRIVATE KEY') throw invalid('privateKeyPem', `Is encrypted; ${DECRYPT}`);
  const type = KEY_FORMATS[label];
  if (!type) {
    throw invalid('privateKeyPem', `Must be an unencrypted P-256 key, PKCS#8 (BEGIN PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY), not BEGIN ${label}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch {
    throw invalid('privateKeyPem', type === 'sec1' ? 'Is not a valid SEC1 EC private key' : 'Is not a valid PKCS#8 private key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalid('privateKeyPem', 'Must be an EC key on the P-256 curve (ES256)');
  }
  return key;
}

/** Validates the chain for `privateKey` and returns it as base64 DER, leaf first. */
async function readCertificateChain(pem: string, privateKey: KeyObject): Promise<string[]> {
  const fail = (msg: string) => invalid('certificateChainPem', msg);
  const blocks = readPemBlocks(pem);
  if (!blocks) throw fail('Is not valid PEM: each -----BEGIN CERTIFICATE----- needs its base64 body and -----END CERTIFICATE-----');
  if (!blocks.length) throw fail('Must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----), leaf first');
  if (blocks.length > MAX_CHAIN_CERTIFICATES) throw fail(`Must hold at most ${MAX_CHAIN_CERTIFICATES} certificates`);
  const other = blocks.find((block) => block.label !== 'CERTIFICATE');
  if (other) throw fail(`Must hold certificates only, not BEGIN ${other.label}`);
  const certificates = blocks.map((block, index) => {
    try {
      return parseCertificate(block.der);
    } catch {
      throw fail(`Certificate ${index + 1} is not a valid X.509 certificate`);
    }
  });
  const leaf = certificates[0]!;

  let leafThumbprint: string | undefined;
  try {
    leafThumbprint = await calculateJwkThumbprint(certificatePublicKey(leaf), 'sha256');
  } catch {
    leafThumbprint = undefined;
  }
  if (leafThumbprint !== (await calculateJwkThumbprint(publicJwkOf(privateKey), 'sha256'))) {
    throw fail("The first certificate's public key does not match privateKeyPem: the chain must start with the key's own certificate");
  }
  const now = Date.now();
  if (leaf.notBefore.getTime() > now || leaf.notAfter.getTime() <= now) {
    throw fail(`The leaf certificate is not valid now (valid from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`);
  }
  if (!allowsDigitalSignature(leaf)) throw fail("The leaf certificate's keyUsage does not allow digitalSignature");
  // HAIP 1.0: the x5c header must not contain the trust anchor, so the leaf cannot be one.
  if (await isSelfSigned(leaf)) throw fail('The leaf certificate must be issued by a CA, not self-signed');
  for (let index = 0; index + 1 < certificates.length; index++) {
    if (!(await isSignedBy(certificates[index]!, certificates[index + 1]!))) {
      throw fail(`Certificate ${index + 1} is not signed by certificate ${index + 2}: the chain must be in order, leaf first`);
    }
  }
  return blocks.map((block) => block.der.toString('base64'));
}
