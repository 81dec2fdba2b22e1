import { describe, expect, it } from 'vitest';
import { MAP_FROM_PATTERN, readClaim, type ClaimSource } from './claim-source.js';

const source: ClaimSource = {
  claims: { givenName: 'Ada', zero: 0, nothing: null, address: { city: 'London', lines: ['12 St James Sq'] }, 'dotted.name': 'x' },
  user: { id: 'user-1' },
};

describe('readClaim', () => {
  it('reads a claim, a nested value and the user id by their dotted path', () => {
    expect(readClaim(source, 'claims.givenName')).toBe('Ada');
    expect(readClaim(source, 'claims.address.city')).toBe('London');
    expect(readClaim(source, 'claims.address')).toEqual({ city: 'London', lines: ['12 St James Sq'] });
    expect(readClaim(source, 'user.id')).toBe('user-1');
    // An array is an object too: its elements are read by index.
    expect(readClaim(source, 'claims.address.lines.0')).toBe('12 St James Sq');
  });

  it('returns present falsy values as they are', () => {
    expect(readClaim(source, 'claims.zero')).toBe(0);
    expect(readClaim(source, 'claims.nothing')).toBeNull();
  });

  it('is undefined for an absent claim, a path through a value that is not an object, or a key holding a dot', () => {
    expect(readClaim(source, 'claims.familyName')).toBeUndefined();
    expect(readClaim(source, 'claims.givenName.length')).toBeUndefined();
    expect(readClaim(source, 'claims.nothing.x')).toBeUndefined();
    expect(readClaim(source, 'claims.dotted.name')).toBeUndefined();
  });

  it('reads own properties only, never inherited ones', () => {
    for (const path of ['claims.toString', 'claims.constructor', 'claims.__proto__', 'claims.address.hasOwnProperty']) {
      expect(readClaim(source, path), path).toBeUndefined();
    }
  });
});

describe('mapFrom', () => {
  it('is "claims.<name>" with dots for nested values, or "user.id"', () => {
    for (const mapFrom of ['claims.a', 'claims.address.city', 'claims.名前', 'user.id']) expect(MAP_FROM_PATTERN.test(mapFrom), mapFrom).toBe(true);
    for (const mapFrom of ['claims', 'claims.', 'claims..a', 'claims.a b', 'user.email', 'user.id.x', 'Claims.a', '']) expect(MAP_FROM_PATTERN.test(mapFrom), mapFrom).toBe(false);
  });
});
