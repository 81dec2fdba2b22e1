import { randomBytes } from 'node:crypto';

/**
 * A new row id: a UUIDv7 (RFC 9562 §5.7), 48 bits of Unix time in milliseconds, then 74 random bits.
 * Rows made one after another get ids one after another, so each insert lands on the right-hand edge
 * of its primary-key index instead of on a random page of a large one (which, past shared_buffers,
 * costs a read and a full-page WAL image). An id tells when its row was made, as `createdAt` does.
 */
export function newRowId(): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
