import { describe, expect, it } from 'vitest';
import { claimMappingSchema, resolveClaims, type ClaimMapping } from './sd-jwt-vc.js';

const mapping = (input: Partial<ClaimMapping> & { mapFrom: string }): ClaimMapping => claimMappingSchema.parse(input);
const source = (claims: Record<string, unknown>) => ({ claims, user: { id: 'user-1' } });

describe('resolveClaims', () => {
  it('resolves each mapping from the claims or the user, in the order of the mappings, with its disclosability', () => {
    const mappings = {
      family_name: mapping({ mapFrom: 'claims.familyName', selectivelyDisclosable: false }),
      city: mapping({ mapFrom: 'claims.address.city' }),
      sub: mapping({ mapFrom: 'user.id' }),
    };
    expect(resolveClaims(mappings, source({ familyName: 'Lovelace', address: { city: 'London' } }))).toEqual({
      claims: [
        { name: 'family_name', value: 'Lovelace', selectivelyDisclosable: false },
        { name: 'city', value: 'London', selectivelyDisclosable: true },
        { name: 'sub', value: 'user-1', selectivelyDisclosable: true },
      ],
      missing: [],
    });
  });

  it('leaves an unresolved optional claim out, and reports an unresolved required one with where it was looked for', () => {
    const mappings = { nickname: mapping({ mapFrom: 'claims.nickname' }), given_name: mapping({ mapFrom: 'claims.givenName', required: true }) };
    expect(resolveClaims(mappings, source({}))).toEqual({ claims: [], missing: [{ name: 'given_name', mapFrom: 'claims.givenName' }] });
  });

  it('null counts as absent; 0, false, an empty string and an empty object are values', () => {
    const mappings = Object.fromEntries(['nothing', 'zero', 'no', 'empty', 'object'].map((name) => [name, mapping({ mapFrom: `claims.${name}`, required: true })]));
    const { claims, missing } = resolveClaims(mappings, source({ nothing: null, zero: 0, no: false, empty: '', object: {} }));
    expect(claims.map((claim) => [claim.name, claim.value])).toEqual([
      ['zero', 0],
      ['no', false],
      ['empty', ''],
      ['object', {}],
    ]);
    expect(missing).toEqual([{ name: 'nothing', mapFrom: 'claims.nothing' }]);
  });

  it('falls back to defaultValue when the value is absent or null, which satisfies a required claim', () => {
    const mappings = {
      country: mapping({ mapFrom: 'claims.country', required: true, defaultValue: 'NZ' }),
      level: mapping({ mapFrom: 'claims.level', defaultValue: 0 }),
      city: mapping({ mapFrom: 'claims.city', defaultValue: 'Unknown' }),
    };
    expect(resolveClaims(mappings, source({ level: null, city: 'Paris' }))).toEqual({
      claims: [
        { name: 'country', value: 'NZ', selectivelyDisclosable: true },
        { name: 'level', value: 0, selectivelyDisclosable: true },
        { name: 'city', value: 'Paris', selectivelyDisclosable: true },
      ],
      missing: [],
    });
  });

  it('never resolves inherited properties', () => {
    const mappings = { name: mapping({ mapFrom: 'claims.toString', required: true }) };
    expect(resolveClaims(mappings, source({}))).toEqual({ claims: [], missing: [{ name: 'name', mapFrom: 'claims.toString' }] });
  });
});
