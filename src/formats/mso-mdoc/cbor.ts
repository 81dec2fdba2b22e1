import { Tag } from '../../crypto/cbor.js';

// The dates of ISO/IEC 18013-5, written as explicit tags (never a JS Date: see crypto/cbor.ts).

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
