import { Encoder, Tag } from 'cbor-x';

// One explicitly configured cbor-x encoder for everything COSE signs here (mDocs, status list CWTs):
// - tagUint8Array: false — otherwise cbor-x wraps a plain Uint8Array in tag 64 (typed array);
// - useRecords: false — otherwise objects may become cbor-x records (tag 105), which no verifier reads;
// - variableMapSize: true — map headers of the right length (RFC 8949 §4.2.1 preferred serialisation);
// - mapsAsObjects: false — decoding keeps integer keys and key order (Maps).
// A JS Date is never encoded: dates are written as explicit Tags, so the global extensions verifier
// libraries register on cbor-x (Date → 0, their DateOnly → 1004) can never change these bytes. Maps
// are Maps, byte strings Buffers or Uint8Arrays.
const encoder = new Encoder({ tagUint8Array: false, useRecords: false, mapsAsObjects: false, variableMapSize: true });

export const cborEncode = (value: unknown): Buffer => encoder.encode(value);
export const cborDecode = (bytes: Uint8Array): unknown => encoder.decode(bytes);

export { Tag };

/** Tag 24, an encoded CBOR data item (RFC 8949 §3.4.5.1): the bytes of `value`'s encoding. */
export const encodedCbor = (value: unknown) => new Tag(cborEncode(value), 24);
