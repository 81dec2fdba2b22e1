import { sign, type KeyObject } from 'node:crypto';
import { COSE_ALG_ES256 } from '../protocol.js';
import { cborEncode } from './cbor.js';

/** COSE header labels (RFC 9052 §3.1, RFC 9360 §2). */
export const COSE_HEADER = { alg: 1, contentType: 3, typ: 16, x5chain: 33 } as const;

/**
 * A COSE_Sign1 (RFC 9052 §4.2) signed with ES256: [protected, unprotected, payload, signature], the
 * protected header holding `alg` and `protectedHeader`'s labels, the signature over
 * Sig_structure = ["Signature1", protected, external_aad, payload] as r‖s (§4.4, RFC 9053 §2.1).
 */
export function coseSign1(options: { payload: Uint8Array; privateKey: KeyObject; protectedHeader?: Map<number, unknown>; unprotectedHeader?: Map<number, unknown> }) {
  const protectedBytes = cborEncode(new Map<number, unknown>([[COSE_HEADER.alg, COSE_ALG_ES256], ...(options.protectedHeader ?? [])]));
  const toBeSigned = cborEncode(['Signature1', protectedBytes, Buffer.alloc(0), options.payload]);
  const signature = sign('sha256', toBeSigned, { key: options.privateKey, dsaEncoding: 'ieee-p1363' });
  return [protectedBytes, options.unprotectedHeader ?? new Map(), options.payload, signature];
}
