import { StatusList } from '@sd-jwt/jwt-status-list';

/** Status Type values (draft-ietf-oauth-status-list §7.1), each at its value: valid 0, invalid 1, suspended 2. */
export const STATUS_NAMES = ['valid', 'invalid', 'suspended'] as const;
export type StatusName = (typeof STATUS_NAMES)[number];
export const STATUS_VALUES = Object.fromEntries(STATUS_NAMES.map((name, value) => [name, value])) as Record<StatusName, number>;

export function statusName(value: number): StatusName {
  const name = STATUS_NAMES[value];
  if (!name) throw new Error(`Unknown status value ${value}`);
  return name;
}

/** Bits per entry of a list: 1 (valid, invalid) or 2 (also suspended). */
export type StatusBits = 1 | 2;

/**
 * The compressed byte array of a list (§4.1): `size` entries of `bits` bits, packed from the least
 * significant bit, DEFLATE/ZLIB at the highest level; every entry 0 (valid) but those given. The
 * values are checked here: the library packs a value too wide for `bits` into the next entry.
 */
export function compressedStatusList(size: number, bits: StatusBits, entries: readonly { idx: number; status: number }[]): Buffer {
  const values = new Array<number>(size).fill(0);
  for (const { idx, status } of entries) {
    if (!Number.isInteger(idx) || idx < 0 || idx >= size) throw new Error(`Status list index ${idx} out of 0..${size - 1}`);
    if (!Number.isInteger(status) || status < 0 || status >= 2 ** bits) throw new Error(`Status ${status} does not fit in ${bits} bit(s)`);
    values[idx] = status;
  }
  return Buffer.from(new StatusList(values, bits).compressStatusList(), 'base64url');
}
