import { createHash, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { Tag, cborEncode, encodedCbor } from '../../crypto/cbor.js';
import { COSE_HEADER, coseSign1 } from '../../crypto/cose.js';
import { tdate } from './cbor.js';

// ISO/IEC 18013-5 §9.1.2: an mDoc as an issuer hands it over (IssuerSigned), with its Mobile Security
// Object signed by the document signer. Built by hand over cbor-x so that every byte is known: the
// structures are small, and no library at hand could add what the MSO may hold (status) or let us
// choose digest ids and randoms.

/** The random of each IssuerSignedItem: at least 16 bytes (§9.1.2.5). */
const RANDOM_BYTES = 32;
/** Digest ids are drawn below 2^31: some verifiers read them as signed 32-bit integers. */
const DIGEST_ID_LIMIT = 2 ** 31;

export interface DeviceKey {
  /** P-256 coordinates, base64url (a JWK's x and y). */
  x: string;
  y: string;
}

export interface MdocToSign {
  docType: string;
  /** namespace → element identifier → CBOR-ready value. */
  nameSpaces: Map<string, Map<string, unknown>>;
  deviceKey: DeviceKey;
  signer: { privateKey: KeyObject; certificate: Uint8Array };
  signed: Date;
  validFrom: Date;
  validUntil: Date;
  /** draft-ietf-oauth-status-list §6.3: `{ status_list: { idx, uri } }` in the MSO. */
  status?: { status_list: { idx: number; uri: string } };
}

/** COSE_Key (RFC 9053 §7.1.1) of a P-256 public key: kty EC2, crv P-256, x, y. */
export function coseKey(key: DeviceKey): Map<number, unknown> {
  return new Map<number, unknown>([
    [1, 2],
    [-1, 1],
    [-2, Buffer.from(key.x, 'base64url')],
    [-3, Buffer.from(key.y, 'base64url')],
  ]);
}

/** `count` distinct random integers below 2^31: unpredictable, so an id says nothing of the elements a holder withheld (§9.1.2.5). */
export function digestIds(count: number): number[] {
  const ids = new Set<number>();
  // A collision is one chance in about 2^31 per draw; the bound keeps a broken generator from looping.
  for (let draws = 0; ids.size < count && draws < count * 10 + 10; draws++) ids.add(randomInt(0, DIGEST_ID_LIMIT));
  if (ids.size < count) throw new Error('Could not draw distinct digest ids');
  return [...ids];
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

/**
 * IssuerSigned = { nameSpaces: { ns: [IssuerSignedItemBytes] }, issuerAuth: COSE_Sign1 }: each item
 * tag 24 around { digestID, random, elementIdentifier, elementValue }, its digest the SHA-256 of that
 * whole tag-24 encoding; the MSO (tag 24 again) as the payload of an untagged COSE_Sign1, ES256,
 * protected header { alg: ES256 }, the document signer's certificate alone as x5chain (verifiers hold
 * the IACA). Returns the CBOR bytes.
 */
export function signIssuerSigned(mdoc: MdocToSign): Buffer {
  const nameSpaces = new Map<string, Tag[]>();
  const valueDigests = new Map<string, Map<number, Buffer>>();
  for (const [namespace, elements] of mdoc.nameSpaces) {
    const ids = digestIds(elements.size);
    const items: Tag[] = [];
    const digests = new Map<number, Buffer>();
    [...elements].forEach(([identifier, value], index) => {
      const item = encodedCbor(
        new Map<string, unknown>([
          ['digestID', ids[index]],
          ['random', randomBytes(RANDOM_BYTES)],
          ['elementIdentifier', identifier],
          ['elementValue', value],
        ]),
      );
      digests.set(ids[index]!, sha256(cborEncode(item)));
      items.push(item);
    });
    nameSpaces.set(namespace, items);
    valueDigests.set(namespace, digests);
  }

  const mso = new Map<string, unknown>([
    ['version', '1.0'],
    ['digestAlgorithm', 'SHA-256'],
    ['valueDigests', valueDigests],
    ['deviceKeyInfo', new Map([['deviceKey', coseKey(mdoc.deviceKey)]])],
    ['docType', mdoc.docType],
    [
      'validityInfo',
      new Map([
        ['signed', tdate(mdoc.signed)],
        ['validFrom', tdate(mdoc.validFrom)],
        ['validUntil', tdate(mdoc.validUntil)],
      ]),
    ],
  ]);
  if (mdoc.status) {
    const { idx, uri } = mdoc.status.status_list;
    mso.set('status', new Map([['status_list', new Map<string, unknown>([['idx', idx], ['uri', uri]])]]));
  }
  const issuerAuth = coseSign1({
    payload: cborEncode(encodedCbor(mso)),
    privateKey: mdoc.signer.privateKey,
    unprotectedHeader: new Map([[COSE_HEADER.x5chain, Buffer.from(mdoc.signer.certificate)]]),
  });
  return cborEncode(
    new Map<string, unknown>([
      ['nameSpaces', nameSpaces],
      ['issuerAuth', issuerAuth],
    ]),
  );
}
