import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { decode, encode, Tag } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { fullDate } from './cbor.js';
import { coseKey, digestIds, signIssuerSigned } from './mso.js';

// Decoded with cbor2, a library that shares no code with the cbor-x encoder that wrote the bytes.
const read = (bytes: Uint8Array): unknown => decode(new Uint8Array(bytes), { ignoreGlobalTags: true, preferMap: true, requirePreferred: true });

const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const holder = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
const CERTIFICATE = Buffer.from('30820101', 'hex'); // the bytes go into x5chain as they are
const mdoc = () =>
  signIssuerSigned({
    docType: 'org.iso.18013.5.1.mDL',
    nameSpaces: new Map([['org.iso.18013.5.1', new Map<string, unknown>([['family_name', 'Doe'], ['birth_date', fullDate('1990-04-12')], ['age_over_18', true]])]]),
    deviceKey: { x: holder.x!, y: holder.y! },
    signer: { privateKey: signer.privateKey, certificate: CERTIFICATE },
    signed: new Date('2026-03-15T10:00:00Z'),
    validFrom: new Date('2026-03-15T10:00:00Z'),
    validUntil: new Date('2027-03-15T10:00:00Z'),
  });

describe('digestIds', () => {
  it('draws distinct integers below 2^31', () => {
    const ids = digestIds(1000);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 2 ** 31)).toBe(true);
    expect(digestIds(0)).toEqual([]);
  });
});

describe('coseKey', () => {
  it('is the COSE_Key of a P-256 JWK: { 1: 2 (EC2), -1: 1 (P-256), -2: x, -3: y }', () => {
    const key = coseKey({ x: holder.x!, y: holder.y! });
    expect([...key.keys()]).toEqual([1, -1, -2, -3]);
    expect([key.get(1), key.get(-1)]).toEqual([2, 1]);
    expect(Buffer.from(key.get(-2) as Buffer).toString('base64url')).toBe(holder.x);
  });
});

describe('signIssuerSigned', () => {
  it('signs the MSO (tag 24) with ES256 over Sig_structure, protected header { 1: -7 }, x5chain the certificate', () => {
    const issuerSigned = read(mdoc()) as Map<string, unknown>;
    const [protectedHeader, unprotected, payload, signature] = issuerSigned.get('issuerAuth') as [Uint8Array, Map<number, Uint8Array>, Uint8Array, Uint8Array];
    expect(read(protectedHeader)).toEqual(new Map([[1, -7]]));
    expect(Buffer.from(unprotected.get(33)!).equals(CERTIFICATE)).toBe(true);
    const toBeSigned = encode(['Signature1', new Uint8Array(protectedHeader), new Uint8Array(0), new Uint8Array(payload)]);
    expect(verify('sha256', toBeSigned, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);

    const mso = read((read(payload) as Tag).contents as Uint8Array) as Map<string, unknown>;
    expect([...mso.keys()]).toEqual(['version', 'digestAlgorithm', 'valueDigests', 'deviceKeyInfo', 'docType', 'validityInfo']);
    expect((mso.get('validityInfo') as Map<string, Tag>).get('validUntil')).toEqual(new Tag(0, '2027-03-15T10:00:00Z'));
  });

  it("digests each item's whole tag-24 encoding, with a fresh 32-byte random", () => {
    const issuerSigned = read(mdoc()) as Map<string, unknown>;
    const mso = read((read((issuerSigned.get('issuerAuth') as Uint8Array[])[2]!) as Tag).contents as Uint8Array) as Map<string, unknown>;
    const digests = (mso.get('valueDigests') as Map<string, Map<number, Uint8Array>>).get('org.iso.18013.5.1')!;
    const items = (issuerSigned.get('nameSpaces') as Map<string, Tag[]>).get('org.iso.18013.5.1')!;
    expect(items).toHaveLength(3);
    for (const item of items) {
      const decoded = read(item.contents as Uint8Array) as Map<string, unknown>;
      expect((decoded.get('random') as Uint8Array).length).toBe(32);
      const digest = createHash('sha256').update(encode(new Tag(24, new Uint8Array(item.contents as Uint8Array)))).digest();
      expect(Buffer.from(digests.get(decoded.get('digestID') as number)!).equals(digest)).toBe(true);
    }
    expect((read(items[1]!.contents as Uint8Array) as Map<string, unknown>).get('elementValue')).toEqual(new Tag(1004, '1990-04-12'));
  });

  it('never repeats randoms or digest ids across mDocs signed from the same data', () => {
    const idsOf = (bytes: Buffer) =>
      ((read(bytes) as Map<string, Map<string, Tag[]>>).get('nameSpaces')!.get('org.iso.18013.5.1')!).map((item) => (read(item.contents as Uint8Array) as Map<string, unknown>).get('digestID'));
    const [a, b] = [mdoc(), mdoc()];
    expect(a.equals(b)).toBe(false);
    expect(idsOf(a)).not.toEqual(idsOf(b));
  });
});
