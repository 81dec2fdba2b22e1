// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createHash, createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { constantTimeEqual } from '../crypto/secrets.js';
import { addPeriod } from '../formats/format.js';

x509.cryptoProvider.set(webcrypto as Crypto);

// ISO/IEC 18013-5 Annex B: the IACA (B.1.2) and document signer (B.1.4) certificate profiles, the
// CSR of a document signer whose IACA is kept offline, and the IACA's CRL (B.1.6, RFC 5280 §5).

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** id-mdl-kp-mdlDS, the extended key usage of a document signer (Annex B.1.4). */
export const MDL_DS_KEY_USAGE = '1.0.18013.5.1.2';
/** Annex B.1.2: an IACA certificate is valid for at most 20 years. */
export const IACA_MAX_VALIDITY = { years: 20 } as const;
export const IACA_DEFAULT_VALIDITY = { years: 10 } as const;
/** Annex B.1.4: a document signer certificate is valid for at most 457 days. */
export const DOCUMENT_SIGNER_MAX_DAYS = 457;
/** Backdated so that verifiers with a slow clock accept a certificate made a moment ago. */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const SUPPORTED_CURVES = ['P-256', 'P-384', 'P-521'];

export interface SubjectFields {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** ISO 3166-2. */
  stateOrProvince?: string;
  commonName?: string;
}

/** C as PrintableString (X.520), ST and CN as UTF8String (RFC 5280 §4.1.2.6). */
export function subjectName(fields: SubjectFields): x509.Name {
  const name: x509.JsonNameParams = [{ C: [{ printableString: fields.country }] }];
  if (fields.stateOrProvince) name.push({ ST: [{ utf8String: fields.stateOrProvince }] });
  if (fields.commonName) name.push({ CN: [{ utf8String: fields.commonName }] });
  return new x509.Name(name);
}

/** Positive, unpredictable, 16 octets (RFC 5280 §4.1.2.2; Annex B: non-sequential, at most 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 DER of a generated key, to be sealed at rest. */
export async function exportPrivateKey(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
}

/** A sealed key, opened, for @peculiar/x509 (WebCrypto) or node:crypto. */
export async function importPrivateKey(pkcs8: Buffer): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', pkcs8, EC_P256, false, ['sign']) as Promise<CryptoKey>;
}
export const privateKeyObject = (pkcs8: Buffer): KeyObject => createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });

/** Where a certificate's CRL distribution point and issuer alternative name point. */
export interface PublicationUris {
  /** The issuer alternative name: a URI of the issuer (Annex B requires IAN as email or URI). */
  issuer: string;
  /** The IACA's CRL (the public CRL endpoint of this service). */
  crl: string;
}

/** A managed IACA: a self-signed root with the Annex B.1.2 profile. */
export async function createIacaCertificate(
  keys: CryptoKeyPair,
  o: { subject: SubjectFields; notBefore: Date; notAfter: Date; uris: PublicationUris },
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectName(o.subject),
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: ES256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.IssuerAlternativeNameExtension([{ type: 'url', value: o.uris.issuer }], false),
      // The full name only: Annex B allows neither reasons nor cRLIssuer.
      new x509.CRLDistributionPointsExtension([o.uris.crl], false),
    ],
  });
}

/**
 * A document signer certificate with the Annex B.1.4 profile, issued by a managed IACA: C and ST
 * copied from the IACA's subject, the issuer name as the IACA's subject byte for byte, the AKI the
 * IACA's SKI. Valid from `notBefore` for at most 457 days, never past the IACA.
 */
export async function createDocumentSignerCertificate(o: {
  iaca: x509.X509Certificate;
  iacaKey: CryptoKey;
  publicKey: CryptoKey;
  commonName: string;
  notBefore: Date;
  uris: PublicationUris;
}): Promise<x509.X509Certificate> {
  const notAfter = new Date(Math.min(o.notBefore.getTime() + DOCUMENT_SIGNER_MAX_DAYS * DAY_MS, o.iaca.notAfter.getTime()));
  const ski = o.iaca.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error('The IACA certificate has no subject key identifier');
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName({ ...iacaSubjectFields(o.iaca), commonName: o.commonName }),
    issuer: o.iaca.subjectName,
    notBefore: o.notBefore,
    notAfter,
    signingAlgorithm: ES256,
    publicKey: o.publicKey,
    signingKey: o.iacaKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      // That OID alone: isomdl refuses a document signer with any other.
      new x509.ExtendedKeyUsageExtension([MDL_DS_KEY_USAGE], true),
      new x509.AuthorityKeyIdentifierExtension(ski.keyId),
      await x509.SubjectKeyIdentifierExtension.create(o.publicKey),
      new x509.IssuerAlternativeNameExtension([{ type: 'url', value: o.uris.issuer }], false),
      new x509.CRLDistributionPointsExtension([o.uris.crl], false),
    ],
  });
}

/** The PKCS#10 request for a document signer key, for the owner of an offline IACA to sign. */
export async function createCertificateRequest(keys: CryptoKeyPair, subject: SubjectFields): Promise<x509.Pkcs10CertificateRequest> {
  return x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(subject),
    keys,
    signingAlgorithm: ES256,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([MDL_DS_KEY_USAGE], true)],
  });
}

/** DER of a non-negative INTEGER (X.690 §8.3): big-endian, minimal, a leading 0 when the top bit is set. */
function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/**
 * The IACA's CRL (Annex B.1.6, RFC 5280 §5): the revoked document signer certificates, signed by the
 * IACA, with the authority key identifier and a CRL number (§5.2.3) that grows with `thisUpdate`.
 */
export async function createCrl(o: {
  iaca: x509.X509Certificate;
  iacaKey: CryptoKey;
  revoked: { serialNumber: string; revokedAt: Date }[];
  thisUpdate: Date;
  nextUpdate: Date;
}): Promise<x509.X509Crl> {
  const ski = o.iaca.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error('The IACA certificate has no subject key identifier');
  return x509.X509CrlGenerator.create({
    issuer: o.iaca.subjectName,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    signingAlgorithm: ES256,
    signingKey: o.iacaKey,
    entries: o.revoked.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: entry.revokedAt })),
    extensions: [new x509.AuthorityKeyIdentifierExtension(ski.keyId), new x509.Extension('2.5.29.20', false, new Uint8Array(derInteger(BigInt(o.thisUpdate.getTime()))))],
  });
}

export const parseCertificate = (der: Uint8Array) => new x509.X509Certificate(new Uint8Array(der));
export const parseCertificateRequest = (pem: string) => new x509.Pkcs10CertificateRequest(pem);
export const toPem = (cert: x509.X509Certificate) => `${cert.toString('pem')}\n`;
export const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');

/** C, ST and CN of a certificate's subject. */
export function iacaSubjectFields(cert: x509.X509Certificate): SubjectFields {
  const [country] = cert.subjectName.getField('C');
  const [stateOrProvince] = cert.subjectName.getField('ST');
  const [commonName] = cert.subjectName.getField('CN');
  return { country: country ?? '', ...(stateOrProvince && { stateOrProvince }), ...(commonName && { commonName }) };
}

/** What the management API shows of a certificate. */
export function certificateData(cert: x509.X509Certificate) {
  const { country, stateOrProvince, commonName } = iacaSubjectFields(cert);
  return {
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    country,
    ...(stateOrProvince && { stateOrProvinceName: stateOrProvince }),
    ...(commonName && { commonName }),
    serialNumber: cert.serialNumber,
  };
}

async function isSignedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/** A DER element's header: where its content starts and how long it is (X.690 §8.1.3). */
function derHeader(der: Uint8Array, at: number): { tag: number; start: number; length: number } | undefined {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) return undefined;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets < 1 || octets > 4) return undefined;
    length = 0;
    for (let index = 0; index < octets; index++) length = length * 256 + (der[start + index] ?? 0);
    start += octets;
  }
  return { tag, start, length };
}

/**
 * The content octets of a certificate's serialNumber INTEGER as encoded (RFC 5280 §4.1.2.2), sign
 * included: Certificate → tbsCertificate → [0] version (skipped) → serialNumber. (@peculiar/x509
 * drops a leading 00, which hides whether a serial is negative.)
 */
export function serialNumberContent(certificate: ArrayBuffer): Uint8Array | undefined {
  const der = new Uint8Array(certificate);
  const outer = derHeader(der, 0);
  const tbs = outer && derHeader(der, outer.start);
  let field = tbs && derHeader(der, tbs.start);
  if (field?.tag === 0xa0) field = derHeader(der, field.start + field.length);
  return field?.tag === 0x02 && field.length > 0 ? der.subarray(field.start, field.start + field.length) : undefined;
}

// Certificates and keys are public; constantTimeEqual is simply the one byte comparison src/ uses.
const sameBytes = (a: ArrayBuffer, b: ArrayBuffer) => constantTimeEqual(Buffer.from(a), Buffer.from(b));
const CA_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
const SIGNER_USAGES = x509.KeyUsageFlags.digitalSignature;

/** The validity rules both profiles share: a window that is open now, within `max`. */
function validityProblems(cert: x509.X509Certificate, now: Date, max: { years?: number; days?: number }): string[] {
  const problems: string[] = [];
  if (cert.notAfter <= now) problems.push(`it expired on ${cert.notAfter.toISOString()}`);
  if (addPeriod(cert.notBefore, max) < cert.notAfter) problems.push(`its validity exceeds ${max.years ? `${max.years} years` : `${max.days} days`}`);
  return problems;
}

function keyProblems(cert: x509.X509Certificate): string[] {
  const algorithm = cert.publicKey.algorithm as EcKeyAlgorithm;
  return algorithm.name === 'ECDSA' && SUPPORTED_CURVES.includes(algorithm.namedCurve) ? [] : [`its key must be ECDSA on ${SUPPORTED_CURVES.join(', ')}`];
}

/**
 * Why `cert` is not an IACA certificate (Annex B.1.2), for one whose key its owner keeps offline:
 * self-signed; basicConstraints critical, CA, pathLen 0; keyUsage critical, keyCertSign and cRLSign
 * only; a subject key identifier; an issuer alternative name; a CRL distribution point; C in the
 * subject; at most 20 years, not expired.
 */
export async function iacaProblems(cert: x509.X509Certificate, now: Date): Promise<string[]> {
  const problems = [...keyProblems(cert), ...validityProblems(cert, now, IACA_MAX_VALIDITY)];
  if (!sameBytes(cert.subjectName.toArrayBuffer(), cert.issuerName.toArrayBuffer()) || !(await isSignedBy(cert, cert))) problems.push('it must be self-signed');
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.critical || !constraints.ca || constraints.pathLength !== 0) problems.push('basicConstraints must be critical, CA, pathLenConstraint 0');
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage?.critical || keyUsage.usages !== CA_USAGES) problems.push('keyUsage must be critical, keyCertSign and cRLSign only');
  if (!cert.getExtension(x509.SubjectKeyIdentifierExtension)) problems.push('it must have a subject key identifier');
  if (!cert.getExtension(x509.IssuerAlternativeNameExtension)) problems.push('it must have an issuer alternative name');
  if (!cert.getExtension(x509.CRLDistributionPointsExtension)) problems.push('it must have a CRL distribution point');
  const countries = cert.subjectName.getField('C');
  if (countries.length !== 1 || !/^[A-Z]{2}$/.test(countries[0]!)) problems.push('its subject must hold one countryName (ISO 3166-1 alpha-2)');
  return problems;
}

/**
 * Why `cert` is not a document signer certificate (Annex B.1.4) of `iaca` for the key `publicKey`
 * (SPKI DER): signed by the IACA, issued under its subject name, the key the CSR carried; keyUsage
 * critical digitalSignature only; extended key usage critical 1.0.18013.5.1.2 alone; AKI = the
 * IACA's SKI; SKI, IAN, CRL DP; not a CA; C and ST as the IACA's; at most 457 days within the IACA's
 * validity, not expired; a positive serial of at most 20 octets.
 */
export async function documentSignerProblems(cert: x509.X509Certificate, iaca: x509.X509Certificate, publicKey: ArrayBuffer, now: Date): Promise<string[]> {
  const problems = [...validityProblems(cert, now, { days: DOCUMENT_SIGNER_MAX_DAYS })];
  if (!sameBytes(cert.publicKey.rawData, publicKey)) problems.push("its key is not the key of this document signer's CSR");
  if (!(await isSignedBy(cert, iaca))) problems.push('it is not signed by the IACA');
  if (!sameBytes(cert.issuerName.toArrayBuffer(), iaca.subjectName.toArrayBuffer())) problems.push("its issuer name is not the IACA's subject name");
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage?.critical || keyUsage.usages !== SIGNER_USAGES) problems.push('keyUsage must be critical, digitalSignature only');
  const extendedKeyUsage = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!extendedKeyUsage?.critical || extendedKeyUsage.usages.length !== 1 || extendedKeyUsage.usages[0] !== MDL_DS_KEY_USAGE) {
    problems.push(`extendedKeyUsage must be critical, ${MDL_DS_KEY_USAGE} alone`);
  }
  const authorityKey = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const iacaKey = iaca.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!authorityKey?.keyId || authorityKey.keyId !== iacaKey?.keyId) problems.push("its authority key identifier must be the IACA's subject key identifier");
  if (!cert.getExtension(x509.SubjectKeyIdentifierExtension)) problems.push('it must have a subject key identifier');
  if (!cert.getExtension(x509.IssuerAlternativeNameExtension)) problems.push('it must have an issuer alternative name');
  if (!cert.getExtension(x509.CRLDistributionPointsExtension)) problems.push('it must have a CRL distribution point');
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca) problems.push('it must not be a CA');
  const subject = iacaSubjectFields(cert);
  const issuer = iacaSubjectFields(iaca);
  if (subject.country !== issuer.country) problems.push(`its subject countryName must be the IACA's (${issuer.country})`);
  if (subject.stateOrProvince !== issuer.stateOrProvince) problems.push(`its subject stateOrProvinceName must be the IACA's (${issuer.stateOrProvince ?? 'none'})`);
  if (cert.notBefore < iaca.notBefore || cert.notAfter > iaca.notAfter) problems.push("its validity must lie within the IACA's");
  const serial = serialNumberContent(cert.rawData);
  if (!serial || serial.length > 20 || (serial[0]! & 0x80) !== 0 || serial.every((byte) => byte === 0)) problems.push('its serial number must be positive and at most 20 octets');
  return problems;
}
