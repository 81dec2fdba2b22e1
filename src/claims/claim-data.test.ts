import { describe, expect, it } from 'vitest';
import { claimsSchema, findForbiddenClaimKey, isForbiddenClaimKey } from './claim-data.js';

describe('findForbiddenClaimKey', () => {
  it('finds nothing in ordinary claim data, look-alikes of the reserved keys included', () => {
    expect(findForbiddenClaimKey({ givenName: 'Ada', address: { sd: 1, _sdx: 2, note: '...' }, roles: ['...', { to_string: 'x' }] })).toBeUndefined();
    for (const value of [null, 'text', 42, true, [], {}]) expect(findForbiddenClaimKey(value), JSON.stringify(value)).toBeUndefined();
  });

  it('names the path of an SD-JWT key at any depth, array indexes included', () => {
    expect(findForbiddenClaimKey({ _sd: ['digest'] })).toEqual(['_sd']);
    expect(findForbiddenClaimKey({ address: { street: 'Main St', _sd_alg: 'sha-256' } })).toEqual(['address', '_sd_alg']);
    expect(findForbiddenClaimKey({ roles: ['user', { '...': 'digest' }] })).toEqual(['roles', 1, '...']);
    expect(findForbiddenClaimKey([{ a: [{ b: { _sd: [] } }] }])).toEqual([0, 'a', 0, 'b', '_sd']);
  });

  it('names Object.prototype member names used as keys, __proto__ as an own key included', () => {
    expect(findForbiddenClaimKey({ toString: 'x' })).toEqual(['toString']);
    expect(findForbiddenClaimKey({ address: { valueOf: 1 } })).toEqual(['address', 'valueOf']);
    expect(findForbiddenClaimKey(JSON.parse('{"a":{"__proto__":{"polluted":true}}}'))).toEqual(['a', '__proto__']);
  });

  it('names the first one, depth first in key order', () => {
    expect(findForbiddenClaimKey({ a: { b: { _sd: [] } }, _sd_alg: 'x' })).toEqual(['a', 'b', '_sd']);
  });

  it('agrees with isForbiddenClaimKey and the claims schema', () => {
    for (const key of ['_sd', '_sd_alg', '...', 'constructor', 'hasOwnProperty', '__proto__']) expect(isForbiddenClaimKey(key), key).toBe(true);
    for (const key of ['sd', '_sdx', 'proto', 'name', '']) expect(isForbiddenClaimKey(key), key).toBe(false);
    const result = claimsSchema.safeParse({ address: { geo: [{ _sd: [] }] } });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path)).toEqual([['address', 'geo', 0, '_sd']]);
  });
});
