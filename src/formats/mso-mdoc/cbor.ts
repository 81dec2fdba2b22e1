import { Encoder, Tag } from 'cbor-x';

// One explicitly configured cbor-x encoder for everything an mDoc is made of:
// - tagUint8Array: false — otherwise cbor-x wraps a plain Uint8Array in tag 64 (typed array);
// - useRecords: false — otherwise objects may become cbor-x records (tag 105), which no verifier reads;
// - variableMapSize: true — map headers of the right length (RFC 8949 §4.2.1 preferred serialisation);
// - mapsAsObjects: false — decoding keeps integer keys and key order (Maps).
// A JS Date is never encoded: tdate (0), full-date (1004) and tag 24 are written as explicit Tags,
// so the global extensions verifier libraries register on cbor-x (Date → 0, their DateOnly → 1004)
// can never change these bytes. Maps are Maps, byte strings Buffers or Uint8Arrays.
const encoder = new Encoder({ tagUint8Array: false, useRecords: false, mapsAsObjects: false, variableMapSize: true });

export const cborEncode = (value: unknown): Buffer => encoder.encode(value);
export const cborDecode = (bytes: Uint8Array): unknown => encoder.decode(bytes);

export { Tag };

/** Tag 24, an encoded CBOR data item (RFC 8949 §3.4.5.1): the bytes of `value`'s encoding. */
export const encodedCbor = (value: unknown) => new Tag(cborEncode(value), 24);

/** tdate (RFC 8949 §3.4.1, tag 0): UTC, whole seconds, no fraction (ISO/IEC 18013-5 §9.1.2.4). */
export const tdate = (date: Date) => new Tag(`${date.toISOString().slice(0, 19)}Z`, 0);

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is an RFC 3339 full-date naming a day of the calendar ("2024-02-30" is not). */
export function isFullDate(text: string): boolean {
  const match = FULL_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0–99 as 1900–1999
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** full-date (RFC 8943, tag 1004): "YYYY-MM-DD". */
export function fullDate(text: string): Tag {
  if (!isFullDate(text)) throw new Error(`Not a full-date: ${text}`);
  return new Tag(text, 1004);
}
