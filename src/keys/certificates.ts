// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as Crypto);

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

const DAY_MS = 24 * 3600 * 1000;
const ROOT_VALIDITY_DAYS = 10 * 365;
const LEAF_VALIDITY_DAYS = 2 * 365;
/** Backdated so that verifiers with a slow clock accept a freshly generated chain. */
const BACKDATE_MS = 5 * 60 * 1000;

/** A positive, 16-byte serial number (RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/**
 * A two-certificate chain for `keys`: a throw-away self-signed root CA whose private key is forgotten
 * once it has signed, and the leaf for the signing key. Returned as base64 DER, leaf first.
 */
export async function generateCertificateChain(keys: webcrypto.CryptoKeyPair, publicUrl: string): Promise<string[]> {
  const hostname = new URL(publicUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const root = (await webcrypto.subtle.generateKey(EC_P256, false, ['sign', 'verify'])) as CryptoKeyPair;
  const rootName: x509.JsonName = [{ CN: [`${hostname} Root CA`] }];
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: rootName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + ROOT_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ES256,
    keys: root,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(root.publicKey),
    ],
  });
  const leafCert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [hostname] }],
    issuer: rootName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ES256,
    publicKey: keys.publicKey as CryptoKey,
    signingKey: root.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: publicUrl },
        isIP(hostname) ? { type: 'ip', value: hostname } : { type: 'dns', value: hostname },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.publicKey),
    ],
  });
  return [leafCert, rootCert].map((cert) => Buffer.from(cert.rawData).toString('base64'));
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

/** The PEM blocks in `text` (RFC 7468); text between blocks is allowed and ignored. Undefined when a block is malformed. */
export function readPemBlocks(text: string): PemBlock[] | undefined {
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]{1,40})-----([\s\S]*?)-----END ([A-Z0-9 ]{1,40})-----/g;
  for (const match of text.matchAll(pattern)) {
    const [, label, body, endLabel] = match as unknown as [string, string, string, string];
    const base64 = body.replace(/\s+/g, '');
    if (label !== endLabel || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return undefined;
    blocks.push({ label, der: Buffer.from(base64, 'base64') });
  }
  const leftover = text.replace(pattern, '');
  if (/-----(BEGIN|END) /.test(leftover)) return undefined;
  return blocks;
}

export function parseCertificate(der: Buffer | string): x509.X509Certificate {
  return new x509.X509Certificate(new Uint8Array(typeof der === 'string' ? Buffer.from(der, 'base64') : der));
}

export function certificatePublicKey(cert: x509.X509Certificate): KeyObject {
  return createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
}

/** True when `cert`'s signature verifies with `issuer`'s public key; false (never throws) otherwise. */
export async function isSignedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * The x5c of a chain (RFC 7515 §4.1.6, leaf first): HAIP 1.0 requires it to stop below the trust
 * anchor, so a trailing self-signed root is dropped.
 */
export async function withoutTrustAnchor(chain: string[]): Promise<string[]> {
  if (chain.length > 1 && (await isSelfSigned(parseCertificate(chain.at(-1)!)))) return chain.slice(0, -1);
  return chain;
}

export function toPem(base64Der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${base64Der.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

export async function isSelfSigned(cert: x509.X509Certificate): Promise<boolean> {
  return cert.subject === cert.issuer && (await isSignedBy(cert, cert));
}

/** True unless a keyUsage extension is present without digitalSignature (RFC 5280 §4.2.1.3). */
export function allowsDigitalSignature(cert: x509.X509Certificate): boolean {
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  return !keyUsage || (keyUsage.usages & x509.KeyUsageFlags.digitalSignature) !== 0;
}
