import { describe, expect, it } from 'vitest';
import { randomEncoded } from './random.js';

describe('pooled random values', () => {
  it('never repeat, across many refills of the pool', () => {
    // 4,000 × 16 bytes is about 16 refills of the 4 KiB pool.
    const values = Array.from({ length: 4_000 }, () => randomEncoded(16, 'base64url'));
    expect(values.every((value) => /^[\w-]{22}$/.test(value))).toBe(true);
    expect(new Set(values).size).toBe(values.length);
  });

  it('cover every byte value and keep to the requested size, larger than the pool included', () => {
    const bytes = Buffer.from(Array.from({ length: 2_000 }, () => randomEncoded(7, 'hex')).join(''), 'hex');
    expect(bytes.length).toBe(14_000);
    expect(new Set(bytes).size).toBe(256);
    expect(randomEncoded(10_000, 'hex')).toMatch(/^[0-9a-f]{20000}$/);
  });

  it('refuse sizes that are not a whole number of bytes, and keep working after', () => {
    for (const size of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) expect(() => randomEncoded(size, 'hex')).toThrow(RangeError);
    expect(randomEncoded(16, 'hex')).toMatch(/^[0-9a-f]{32}$/);
  });
});
