import '@owf/mdoc'; // registers cbor-x extensions globally (Date → tag 0, its DateOnly → 1004), as verifiers in the same process do
import { describe, expect, it } from 'vitest';
import { cborDecode, cborEncode, encodedCbor } from '../../crypto/cbor.js';
import { fullDate, isFullDate, tdate } from './cbor.js';

const hex = (value: unknown) => cborEncode(value).toString('hex');

describe('the mDoc CBOR encoder', () => {
  it('writes byte strings as plain bstr (no typed-array tag 64), Buffer or Uint8Array alike', () => {
    expect(hex(new Uint8Array([1, 2]))).toBe('420102');
    expect(hex(Buffer.from([1, 2]))).toBe('420102');
  });

  it('writes maps with preferred-length headers and keeps their order and integer keys', () => {
    expect(hex(new Map<unknown, unknown>([[1, 2], [-1, 1]]))).toBe('a2010220' + '01');
    expect(hex(new Map([['b', 1], ['a', 2]]))).toBe('a2616201616102');
    // A plain object becomes a map too, never a cbor-x record (tag 105).
    expect(hex({ a: 1 })).toBe('a1616101');
    expect(cborDecode(cborEncode(new Map([[-2, 'x']])))).toEqual(new Map([[-2, 'x']]));
  });

  it('writes tag 24 around the encoding of its value, tdate as tag 0 without fractions, full-date as tag 1004', () => {
    expect(hex(encodedCbor(1))).toBe('d8184101');
    expect(hex(tdate(new Date('2025-01-31T09:00:00.999Z')))).toBe(`c074${Buffer.from('2025-01-31T09:00:00Z').toString('hex')}`);
    expect(hex(fullDate('1990-04-12'))).toBe(`d903ec6a${Buffer.from('1990-04-12').toString('hex')}`);
  });

  it('keeps its bytes whatever cbor-x extensions other libraries registered: dates are explicit tags, never JS Dates', () => {
    const signed = tdate(new Date('2025-01-31T09:00:00Z'));
    expect(hex(new Map([['signed', signed]]))).toBe(`a1667369676e6564c074${Buffer.from('2025-01-31T09:00:00Z').toString('hex')}`);
    expect(hex(encodedCbor(new Map([['random', new Uint8Array(16)]])))).toBe(`d8185819a16672616e646f6d50${'00'.repeat(16)}`);
  });
});

describe('full-dates', () => {
  it('are YYYY-MM-DD naming a day of the calendar', () => {
    for (const date of ['1990-04-12', '2024-02-29', '2000-02-29', '0001-01-01']) expect(isFullDate(date), date).toBe(true);
    for (const date of ['2023-02-29', '1900-02-29', '2024-13-01', '2024-04-31', '2024-1-01', '20240101', '2024-01-01T00:00:00Z', ' 2024-01-01', '']) {
      expect(isFullDate(date), date).toBe(false);
    }
    expect(() => fullDate('2023-02-29')).toThrow();
  });
});
