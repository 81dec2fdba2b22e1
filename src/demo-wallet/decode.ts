import { createHash } from 'node:crypto';
import { SDJwt } from '@sd-jwt/core';
import { Tag, cborDecode } from '../crypto/cbor.js';

const hasher = (data: string | ArrayBuffer, alg: string) =>
  new Uint8Array(
    createHash(alg.replace('-', '').toLowerCase())
      .update(typeof data === 'string' ? data : Buffer.from(data))
      .digest(),
  );

export interface DecodedSdJwt {
  kind: 'sd-jwt';
  header: Record<string, unknown>;
  /** What the issuer signed in the clear: the payload without its `_sd` digests. */
  signedClaims: Record<string, unknown>;
  /** Each disclosure: the claim name (none for an array element) and its value. */
  disclosures: { name?: string; value: unknown }[];
  /** The claims with every disclosure applied, as a verifier sees them when all are presented. */
  claims: Record<string, unknown>;
}

/** An SD-JWT (VC): issuer-signed JWT, then `~`-separated disclosures (RFC 9901 §4). The signature is not checked. */
export async function decodeSdJwt(compact: string): Promise<DecodedSdJwt> {
  const sdJwt = await SDJwt.fromEncode(compact, hasher);
  const payload = { ...(sdJwt.jwt?.payload ?? {}) };
  delete payload._sd;
  delete payload._sd_alg;
  return {
    kind: 'sd-jwt',
    header: sdJwt.jwt?.header ?? {},
    signedClaims: payload,
    disclosures: (sdJwt.disclosures ?? []).map((disclosure) => ({ ...(disclosure.key !== undefined && { name: disclosure.key }), value: disclosure.value })),
    claims: await sdJwt.getClaims<Record<string, unknown>>(hasher),
  };
}

export interface DecodedMdoc {
  kind: 'mdoc';
  docType: string;
  validityInfo: Record<string, unknown>;
  /** By namespace, each element's identifier and value (readable: dates as text, byte strings summarised). */
  nameSpaces: Record<string, { identifier: string; value: unknown }[]>;
}

/** Something printable for a CBOR value: full-dates and tdates as their text, bytes as their length and first bytes. */
export function readable(value: unknown): unknown {
  if (value instanceof Tag) {
    if (value.tag === 1004 || value.tag === 0) return String(value.value);
    if (value.tag === 24 && value.value instanceof Uint8Array) return readable(cborDecode(value.value));
    return { tag: value.tag, value: readable(value.value) };
  }
  if (value instanceof Uint8Array) return `<${value.length} bytes ${Buffer.from(value.subarray(0, 8)).toString('hex')}${value.length > 8 ? '…' : ''}>`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return Object.fromEntries([...value].map(([key, inner]) => [String(key), readable(inner)]));
  if (Array.isArray(value)) return value.map(readable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, readable(inner)]));
  return value;
}

const field = (map: unknown, key: string | number): unknown => (map instanceof Map ? map.get(key) : (map as Record<string, unknown> | undefined)?.[key]);

/**
 * An mDoc credential as OID4VCI delivers it: base64url of the CBOR IssuerSigned (ISO/IEC 18013-5
 * §8.3.2.1.2.2): name spaces of tag-24 IssuerSignedItems, and issuerAuth, a COSE_Sign1 over the
 * MSO. The signature is not checked.
 */
export function decodeMdoc(base64url: string): DecodedMdoc {
  const issuerSigned = cborDecode(Buffer.from(base64url, 'base64url'));
  const nameSpaces: DecodedMdoc['nameSpaces'] = {};
  const spaces = field(issuerSigned, 'nameSpaces');
  for (const [namespace, items] of spaces instanceof Map ? spaces : Object.entries(spaces ?? {})) {
    nameSpaces[String(namespace)] = (items as Tag[]).map((item) => {
      const decoded = cborDecode(item.value as Uint8Array);
      return { identifier: String(field(decoded, 'elementIdentifier')), value: readable(field(decoded, 'elementValue')) };
    });
  }
  const [, , payload] = field(issuerSigned, 'issuerAuth') as [unknown, unknown, Uint8Array];
  const mso = cborDecode((cborDecode(payload) as Tag).value as Uint8Array);
  return {
    kind: 'mdoc',
    docType: String(field(mso, 'docType')),
    validityInfo: readable(field(mso, 'validityInfo')) as Record<string, unknown>,
    nameSpaces,
  };
}
