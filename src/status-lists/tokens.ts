import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { Tag, cborEncode } from '../crypto/cbor.js';
import { COSE_HEADER, coseSign1 } from '../crypto/cose.js';
import { CREDENTIAL_SIGNING_ALG, type StatusListKind } from '../protocol.js';
import type { StatusBits } from './encoding.js';

export const STATUS_LIST_MEDIA_TYPES: Record<StatusListKind, string> = {
  jwt: 'application/statuslist+jwt',
  cwt: 'application/statuslist+cwt',
};

/** What a Status List Token says, whatever its kind. */
export interface StatusListContent {
  /** The token's URI: `sub`, equal to the `uri` of the credentials' status reference. */
  uri: string;
  bits: StatusBits;
  /** The compressed byte array (§4.1). */
  list: Buffer;
  aggregationUri: string;
  issuedAt: Date;
  expiresAt: Date;
  ttlSeconds: number;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** §5.1: typ statuslist+jwt, signed like the credentials (ES256, kid and x5c of the issuer key). */
export function signJwtStatusList(content: StatusListContent, key: { kid: string; privateKey: KeyObject; x5c: readonly string[] }): Promise<string> {
  return new SignJWT({
    sub: content.uri,
    iat: seconds(content.issuedAt),
    exp: seconds(content.expiresAt),
    ttl: content.ttlSeconds,
    status_list: { bits: content.bits, lst: content.list.toString('base64url'), aggregation_uri: content.aggregationUri },
  })
    .setProtectedHeader({ alg: CREDENTIAL_SIGNING_ALG, typ: 'statuslist+jwt', kid: key.kid, x5c: [...key.x5c] })
    .sign(key.privateKey);
}

/** CWT claim keys (RFC 8392 §4, §6.2 of the status list draft). */
const CWT_CLAIMS = { sub: 2, exp: 4, iat: 6, statusList: 65533, ttl: 65534 } as const;
/** COSE_Sign1_Tagged (RFC 9052 §2): a Status List CWT is tagged so, never with the CWT tag (§5.2). */
const COSE_SIGN1_TAG = 18;

/**
 * §5.2: COSE_Sign1_Tagged, protected header { alg ES256, typ application/statuslist+cwt }, the
 * document signer's certificate as x5chain (verifiers hold the IACA, as for the mDocs it signed).
 */
export function signCwtStatusList(content: StatusListContent, signer: { privateKey: KeyObject; certificate: Uint8Array }): Buffer {
  const claims = new Map<number, unknown>([
    [CWT_CLAIMS.sub, content.uri],
    [CWT_CLAIMS.iat, seconds(content.issuedAt)],
    [CWT_CLAIMS.exp, seconds(content.expiresAt)],
    [CWT_CLAIMS.ttl, content.ttlSeconds],
    [
      CWT_CLAIMS.statusList,
      new Map<string, unknown>([
        ['bits', content.bits],
        ['lst', content.list],
        ['aggregation_uri', content.aggregationUri],
      ]),
    ],
  ]);
  const signed = coseSign1({
    payload: cborEncode(claims),
    privateKey: signer.privateKey,
    protectedHeader: new Map([[COSE_HEADER.typ, STATUS_LIST_MEDIA_TYPES.cwt]]),
    unprotectedHeader: new Map([[COSE_HEADER.x5chain, Buffer.from(signer.certificate)]]),
  });
  return cborEncode(new Tag(signed, COSE_SIGN1_TAG));
}
