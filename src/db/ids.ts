import { randomEncoded } from '../crypto/random.js';

/**
 * A new row id: a UUIDv7 (RFC 9562 §5.7), 48 bits of Unix time in milliseconds, then 74 random bits.
 * Rows made one after another get ids one after another, so each insert lands on the right-hand edge
 * of its primary-key index instead of on a random page of a large one (which, past shared_buffers,
 * costs a read and a full-page WAL image). An id tells when its row was made, as `createdAt` does.
 */
export function newRowId(): string {
  const time = Date.now().toString(16).padStart(12, '0');
  const random = randomEncoded(10, 'hex');
  const variant = (0x8 | (parseInt(random[18]!, 16) & 0x3)).toString(16); // variant 10, then 2 random bits
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(0, 3)}-${variant}${random.slice(3, 6)}-${random.slice(6, 18)}`;
}
