import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MDL_DS_KEY_USAGE,
  createCertificateRequest,
  createCrl,
  createDocumentSignerCertificate,
  createIacaCertificate,
  documentSignerProblems,
  generateKeyPair,
  iacaProblems,
  serialNumberContent,
  subjectName,
} from './certificates.js';

const DAY = 86_400_000;
const NOW = new Date();
const URIS = { issuer: 'https://issuer.example.com', crl: 'https://issuer.example.com/v2/credentials/mobile/iacas/1/crl' };
const SUBJECT = { country: 'US', stateOrProvince: 'US-CA', commonName: 'Test IACA' };
const ES256 = { name: 'ECDSA', hash: 'SHA-256' };

let iacaKeys: CryptoKeyPair;
let iaca: x509.X509Certificate;
let signerKeys: CryptoKeyPair;
let signer: x509.X509Certificate;
const spki = async (key: CryptoKey) => webcrypto.subtle.exportKey('spki', key);

beforeAll(async () => {
  iacaKeys = await generateKeyPair();
  iaca = await createIacaCertificate(iacaKeys, { subject: SUBJECT, notBefore: new Date(NOW.getTime() - 60_000), notAfter: new Date(NOW.getTime() + 3650 * DAY), uris: URIS });
  signerKeys = await generateKeyPair();
  signer = await createDocumentSignerCertificate({ iaca, iacaKey: iacaKeys.privateKey, publicKey: signerKeys.publicKey, commonName: 'Test DS', notBefore: NOW, uris: URIS });
});

/** A certificate like the IACA but for one change, self-signed by the IACA key. */
const variant = async (change: Partial<x509.X509CertificateCreateSelfSignedParams>) =>
  x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: subjectName(SUBJECT),
    notBefore: new Date(NOW.getTime() - 60_000),
    notAfter: new Date(NOW.getTime() + 365 * DAY),
    signingAlgorithm: ES256,
    keys: iacaKeys,
    extensions: iaca.extensions,
    ...change,
  });

describe('IACA certificates (ISO/IEC 18013-5 Annex B.1.2)', () => {
  it('a managed IACA has the profile: self-signed, CA pathLen 0, keyCertSign + cRLSign, SKI, IAN and CRL DP URIs, C printable, ST and CN', async () => {
    expect(await iacaProblems(iaca, NOW)).toEqual([]);
    expect(iaca.subject).toBe('C=US, ST=US-CA, CN=Test IACA');
    const constraints = iaca.getExtension(x509.BasicConstraintsExtension)!;
    expect([constraints.critical, constraints.ca, constraints.pathLength]).toEqual([true, true, 0]);
    const usage = iaca.getExtension(x509.KeyUsagesExtension)!;
    expect([usage.critical, usage.usages]).toEqual([true, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign]);
    expect(iaca.getExtension(x509.IssuerAlternativeNameExtension)!.names.toJSON()).toEqual([{ type: 'url', value: URIS.issuer }]);
    expect(iaca.getExtension(x509.CRLDistributionPointsExtension)!.distributionPoints.map((point) => point.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier)).toEqual([URIS.crl]);
    // C as PrintableString (tag 0x13) within the subject's DER.
    expect(Buffer.from(iaca.subjectName.toArrayBuffer()).includes(Buffer.from([0x13, 0x02, 0x55, 0x53]))).toBe(true);
    const serial = serialNumberContent(iaca.rawData)!;
    expect(Buffer.from(serial).toString('hex')).toBe(iaca.serialNumber);
    expect(serial.length).toBe(16);
    expect(serial[0]! & 0x80).toBe(0);
  });

  it('refuses a certificate that is not an IACA, naming each reason', async () => {
    expect(await iacaProblems(signer, NOW)).toEqual(expect.arrayContaining(['it must be self-signed', 'basicConstraints must be critical, CA, pathLenConstraint 0']));
    const plain = [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)];
    expect(await iacaProblems(await variant({ extensions: plain }), NOW)).toEqual([
      'it must have a subject key identifier',
      'it must have an issuer alternative name',
      'it must have a CRL distribution point',
    ]);
    const signing = await variant({ extensions: [...iaca.extensions.filter((e) => !(e instanceof x509.KeyUsagesExtension)), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)] });
    expect(await iacaProblems(signing, NOW)).toEqual(['keyUsage must be critical, keyCertSign and cRLSign only']);
    expect(await iacaProblems(await variant({ notAfter: new Date(NOW.getTime() - DAY), notBefore: new Date(NOW.getTime() - 2 * DAY) }), NOW)).toEqual([expect.stringMatching(/^it expired on /)]);
    expect(await iacaProblems(await variant({ notAfter: new Date(NOW.getTime() + 21 * 366 * DAY) }), NOW)).toEqual(['its validity exceeds 20 years']);
    expect(await iacaProblems(await variant({ name: new x509.Name([{ CN: [{ utf8String: 'No country' }] }]) }), NOW)).toEqual(['its subject must hold one countryName (ISO 3166-1 alpha-2)']);
  });
});

describe('document signer certificates (Annex B.1.4)', () => {
  it("have the profile: digitalSignature, EKU 1.0.18013.5.1.2 alone and critical, AKI = the IACA's SKI, the IACA's C and ST, issued under its subject", async () => {
    expect(await documentSignerProblems(signer, iaca, await spki(signerKeys.publicKey), NOW)).toEqual([]);
    expect(signer.issuer).toBe(iaca.subject);
    expect(signer.subject).toBe('C=US, ST=US-CA, CN=Test DS');
    const usage = signer.getExtension(x509.ExtendedKeyUsageExtension)!;
    expect([usage.critical, usage.usages]).toEqual([true, [MDL_DS_KEY_USAGE]]);
    expect(signer.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(iaca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    expect(signer.getExtension(x509.BasicConstraintsExtension)).toBeNull();
    expect(await signer.verify({ publicKey: iaca.publicKey, signatureOnly: true })).toBe(true);
    expect((signer.notAfter.getTime() - signer.notBefore.getTime()) / DAY).toBe(457);
  });

  it("never outlive their IACA", async () => {
    const shortIaca = await createIacaCertificate(iacaKeys, { subject: SUBJECT, notBefore: new Date(NOW.getTime() - 60_000), notAfter: new Date(NOW.getTime() + 30 * DAY), uris: URIS });
    const capped = await createDocumentSignerCertificate({ iaca: shortIaca, iacaKey: iacaKeys.privateKey, publicKey: signerKeys.publicKey, commonName: 'DS', notBefore: NOW, uris: URIS });
    expect(capped.notAfter.getTime()).toBe(shortIaca.notAfter.getTime());
  });

  it('reads the serial number as encoded, sign included', async () => {
    const positive = await variant({ serialNumber: '00ff' });
    expect(Buffer.from(serialNumberContent(positive.rawData)!).toString('hex')).toBe('00ff');
    expect(positive.serialNumber).toBe('ff');
    // SEQUENCE { SEQUENCE { [0] { INTEGER 2 }, INTEGER -128 } }: no library here writes a negative serial.
    const negative = Buffer.from('300a3008a003020102020180', 'hex');
    expect(Buffer.from(serialNumberContent(new Uint8Array(negative).buffer)!).toString('hex')).toBe('80');
    expect(serialNumberContent(new Uint8Array([0x30, 0x02, 0x30]).buffer)).toBeUndefined();
  });

  it('refuses a certificate for another key, from another IACA, or off the profile', async () => {
    const other = await generateKeyPair();
    expect(await documentSignerProblems(signer, iaca, await spki(other.publicKey), NOW)).toEqual(["its key is not the key of this document signer's CSR"]);
    const otherIaca = await createIacaCertificate(other, { subject: SUBJECT, notBefore: new Date(NOW.getTime() - 60_000), notAfter: new Date(NOW.getTime() + 365 * DAY), uris: URIS });
    expect(await documentSignerProblems(signer, otherIaca, await spki(signerKeys.publicKey), NOW)).toEqual(
      expect.arrayContaining(['it is not signed by the IACA', "its authority key identifier must be the IACA's subject key identifier"]),
    );
    const offProfile = await x509.X509CertificateGenerator.create({
      serialNumber: '00ff',
      subject: subjectName({ country: 'NL', commonName: 'DS' }),
      issuer: iaca.subjectName,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 500 * DAY),
      signingAlgorithm: ES256,
      publicKey: signerKeys.publicKey,
      signingKey: iacaKeys.privateKey,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([MDL_DS_KEY_USAGE, '1.3.6.1.5.5.7.3.2'], true)],
    });
    expect(await documentSignerProblems(offProfile, iaca, await spki(signerKeys.publicKey), NOW)).toEqual([
      'its validity exceeds 457 days',
      `extendedKeyUsage must be critical, ${MDL_DS_KEY_USAGE} alone`,
      "its authority key identifier must be the IACA's subject key identifier",
      'it must have a subject key identifier',
      'it must have an issuer alternative name',
      'it must have a CRL distribution point',
      "its subject countryName must be the IACA's (US)",
      "its subject stateOrProvinceName must be the IACA's (US-CA)",
    ]);
  });

  it("a CSR carries the key and the IACA's C and ST, self-signed", async () => {
    const csr = await createCertificateRequest(signerKeys, { country: 'US', stateOrProvince: 'US-CA', commonName: 'DS' });
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('C=US, ST=US-CA, CN=DS');
    expect(Buffer.from(csr.publicKey.rawData).equals(Buffer.from(await spki(signerKeys.publicKey)))).toBe(true);
  });
});

describe('the CRL (RFC 5280 §5)', () => {
  it('lists the revoked serial numbers, signed by the IACA, with its AKI and a CRL number', async () => {
    const thisUpdate = new Date('2026-03-15T10:00:00Z');
    const crl = await createCrl({
      iaca,
      iacaKey: iacaKeys.privateKey,
      revoked: [{ serialNumber: signer.serialNumber, revokedAt: new Date('2026-03-14T09:00:00Z') }],
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + DAY),
    });
    const parsed = new x509.X509Crl(crl.rawData);
    expect(await parsed.verify({ publicKey: iaca.publicKey })).toBe(true);
    expect(parsed.issuer).toBe(iaca.subject);
    expect(parsed.entries.map((entry) => [entry.serialNumber, entry.revocationDate.toISOString()])).toEqual([[signer.serialNumber, '2026-03-14T09:00:00.000Z']]);
    expect(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(iaca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    const number = parsed.extensions.find((extension) => extension.type === '2.5.29.20')!;
    // INTEGER, the milliseconds of thisUpdate: it grows with every CRL issued.
    expect(Buffer.from(number.value).toString('hex')).toBe(`0206${thisUpdate.getTime().toString(16).padStart(12, '0')}`);
  });
});
