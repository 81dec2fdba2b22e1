import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Tag, cborEncode, encodedCbor } from '../crypto/cbor.js';
import { decodeMdoc, decodeSdJwt, readable } from './decode.js';
import { wellKnownUrl } from './wallet.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('decodeSdJwt', () => {
  it('separates what is signed in the clear from the disclosures, and applies them', async () => {
    const disclosure = b64(['salt-1', 'given_name', 'Ada']);
    const element = b64(['salt-2', 'Paris']);
    const digest = (text: string) => createHash('sha256').update(text).digest('base64url');
    const payload = { iss: 'https://issuer.example.com', vct: 'https://credentials.example.com/identity', _sd: [digest(disclosure)], _sd_alg: 'sha-256', cities: [{ '...': digest(element) }] };
    const compact = `${b64({ alg: 'ES256', typ: 'dc+sd-jwt' })}.${b64(payload)}.${b64('signature')}~${disclosure}~${element}~`;
    const decoded = await decodeSdJwt(compact);
    expect(decoded.header).toEqual({ alg: 'ES256', typ: 'dc+sd-jwt' });
    expect(decoded.signedClaims).toEqual({ iss: 'https://issuer.example.com', vct: 'https://credentials.example.com/identity', cities: [{ '...': digest(element) }] });
    expect(decoded.disclosures).toEqual([{ name: 'given_name', value: 'Ada' }, { value: 'Paris' }]);
    expect(decoded.claims).toEqual({ iss: 'https://issuer.example.com', vct: 'https://credentials.example.com/identity', given_name: 'Ada', cities: ['Paris'] });
  });
});

describe('decodeMdoc', () => {
  it('reads the elements of each name space and the MSO validity of an IssuerSigned', () => {
    const item = (elementIdentifier: string, elementValue: unknown) => encodedCbor(new Map<string, unknown>([['digestID', 0], ['random', Buffer.alloc(16)], ['elementIdentifier', elementIdentifier], ['elementValue', elementValue]]));
    const mso = new Map<string, unknown>([['docType', 'org.iso.18013.5.1.mDL'], ['validityInfo', new Map([['validFrom', new Tag('2026-01-01T00:00:00Z', 0)]])]]);
    const issuerSigned = new Map<string, unknown>([
      ['nameSpaces', new Map([['org.iso.18013.5.1', [item('family_name', 'Doe'), item('birth_date', new Tag('1990-04-12', 1004)), item('portrait', Buffer.from('ffd8ffe000104a4649', 'hex'))]]])],
      ['issuerAuth', [cborEncode(new Map([[1, -7]])), new Map(), cborEncode(encodedCbor(mso)), Buffer.alloc(64)]],
    ]);
    const decoded = decodeMdoc(cborEncode(issuerSigned).toString('base64url'));
    expect(decoded).toEqual({
      kind: 'mdoc',
      docType: 'org.iso.18013.5.1.mDL',
      validityInfo: { validFrom: '2026-01-01T00:00:00.000Z' },
      nameSpaces: {
        'org.iso.18013.5.1': [
          { identifier: 'family_name', value: 'Doe' },
          { identifier: 'birth_date', value: '1990-04-12' },
          { identifier: 'portrait', value: '<9 bytes ffd8ffe000104a46…>' },
        ],
      },
    });
    expect(readable(new Tag(5, 99))).toEqual({ tag: 99, value: 5 });
  });
});

describe('wellKnownUrl', () => {
  it('puts /.well-known/ between the host and the identifier\'s path (OID4VCI 1.0 §12.2.2)', () => {
    expect(wellKnownUrl('https://issuer.example.com', 'openid-credential-issuer')).toBe('https://issuer.example.com/.well-known/openid-credential-issuer');
    expect(wellKnownUrl('https://example.com/tenant', 'oauth-authorization-server')).toBe('https://example.com/.well-known/oauth-authorization-server/tenant');
  });
});
