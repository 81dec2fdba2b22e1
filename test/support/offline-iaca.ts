import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as Crypto);

// The owner of an unmanaged IACA, played by the test: its key never reaches the service. It makes
// its IACA certificate and signs the CSRs the service answers with, written here with @peculiar/x509
// directly (not with the service's src/iacas/certificates.ts), so that a test can also sign what the
// Annex B profile forbids.

const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
export const MDL_DS_EKU = '1.0.18013.5.1.2';

const serial = () => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
};

export interface SignOptions {
  notBefore?: Date;
  notAfter?: Date;
  extendedKeyUsages?: string[];
  /** Sign with this key instead of the IACA's (a forgery). */
  signingKey?: CryptoKey;
}

export class OfflineIaca {
  private constructor(
    readonly keys: CryptoKeyPair,
    readonly certificate: x509.X509Certificate,
  ) {}

  static async create(options: { country?: string; state?: string; notBefore?: Date; notAfter?: Date } = {}): Promise<OfflineIaca> {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const name = new x509.Name([
      { C: [{ printableString: options.country ?? 'NL' }] },
      { ST: [{ utf8String: options.state ?? 'NL-NH' }] },
      { CN: [{ utf8String: 'Offline IACA' }] },
    ]);
    const notBefore = options.notBefore ?? new Date(Date.now() - 10 * 60_000);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name,
      notBefore,
      notAfter: options.notAfter ?? new Date(notBefore.getTime() + 5 * 365 * DAY),
      signingAlgorithm: ES256,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        new x509.IssuerAlternativeNameExtension([{ type: 'email', value: 'iaca@offline.example.com' }]),
        new x509.CRLDistributionPointsExtension(['https://offline.example.com/iaca.crl']),
      ],
    });
    return new OfflineIaca(keys, certificate);
  }

  get certificatePem(): string {
    return this.certificate.toString('pem');
  }

  /** A document signer certificate for the CSR's key and subject (the Annex B.1.4 profile unless told otherwise). */
  async sign(csrPem: string, options: SignOptions = {}): Promise<string> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('The CSR is not signed by its key');
    const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: csr.subjectName,
      issuer: this.certificate.subjectName,
      notBefore,
      notAfter: options.notAfter ?? new Date(notBefore.getTime() + 365 * DAY),
      signingAlgorithm: ES256,
      publicKey: await csr.publicKey.export(),
      signingKey: options.signingKey ?? this.keys.privateKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(options.extendedKeyUsages ?? [MDL_DS_EKU], true),
        new x509.AuthorityKeyIdentifierExtension(this.certificate.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId),
        await x509.SubjectKeyIdentifierExtension.create(await csr.publicKey.export()),
        new x509.IssuerAlternativeNameExtension([{ type: 'email', value: 'iaca@offline.example.com' }]),
        new x509.CRLDistributionPointsExtension(['https://offline.example.com/iaca.crl']),
      ],
    });
    return certificate.toString('pem');
  }
}
