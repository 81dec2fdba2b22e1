import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DOCUMENT_SIGNERS, IACAS, TEST_IACA, type HttpResponse, type IssuerClient } from './support/client.js';
import { expectBadRequest } from './support/expectations.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { MDL_DS_EKU, OfflineIaca } from './support/offline-iaca.js';

// IACAs and document signers through MATTR VII's management API: shapes, validation, the limit of
// three active IACAs, the CSR flow of an IACA whose key stays offline, revocation and the public
// certificate and CRL, and the Annex B profile of what the service issues as openssl prints it.

const PUBLIC_URL = 'https://issuer.example.com';
const DAY = 86_400_000;

let issuer: TestIssuer;
let api: IssuerClient;
let workDir: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL });
  api = issuer.client;
  workDir = mkdtempSync(path.join(tmpdir(), 'vci-iacas-'));
});
afterAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await issuer.close();
});
// At most three IACAs are active at once: each test starts with none.
beforeEach(async () => {
  const { rows } = await issuer.database.pool.query<{ id: string }>('SELECT id FROM iacas WHERE active');
  for (const { id } of rows) expect((await api.put(`${IACAS}/${id}`, { active: false })).statusCode).toBe(200);
});

const IACA_KEYS = ['id', 'active', 'isManaged', 'certificatePem', 'certificateData', 'certificateFingerprint'];
const derOf = (pem: string) => new X509Certificate(pem).raw;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A body that is not JSON (the DER of a CRL), through the whole HTTP stack, without an API key. */
async function getBytes(url: string) {
  const response = await issuer.app.inject({ method: 'GET', url });
  return { statusCode: response.statusCode, contentType: response.headers['content-type'], bytes: response.rawPayload };
}

function expectStatus(response: HttpResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  return response.json();
}

/** `openssl x509 -text -noout` of a PEM certificate. */
function openssl(pem: string): string {
  const file = path.join(workDir, `${randomUUID()}.pem`);
  writeFileSync(file, pem);
  return execFileSync('/usr/bin/openssl', ['x509', '-text', '-noout', '-in', file], { encoding: 'utf8' });
}

/** The lines of an openssl extension, after its name. */
function extension(text: string, name: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.trim().startsWith(`X509v3 ${name}`));
  if (at < 0) return '';
  const values: string[] = [lines[at]!.trim()];
  for (const line of lines.slice(at + 1)) {
    if (/^\s{12}X509v3 |^\s{4}Signature Algorithm/.test(line)) break;
    values.push(line.trim());
  }
  return values.join(' ');
}

describe('IACAs: managed', () => {
  it('POST makes the key and a self-signed certificate: 201, inactive, in MATTR VII’s shape; GET and the list answer the same', async () => {
    const before = Date.now();
    const created = expectStatus(await api.post(IACAS, TEST_IACA), 201);
    expect(Object.keys(created).sort()).toEqual([...IACA_KEYS].sort());
    expect(created).toMatchObject({ active: false, isManaged: true });
    expect(created.certificateData).toEqual({
      notBefore: expect.any(String),
      notAfter: expect.any(String),
      country: 'US',
      stateOrProvinceName: 'US-CA',
      commonName: 'Test IACA',
      serialNumber: new X509Certificate(created.certificatePem).serialNumber.toLowerCase(),
    });
    expect(created.certificateFingerprint).toBe(sha256(derOf(created.certificatePem)));
    // Backdated a little for slow verifier clocks; ten years by default.
    const notBefore = new Date(created.certificateData.notBefore).getTime();
    expect(before - notBefore).toBeGreaterThanOrEqual(4 * 60_000);
    expect(before - notBefore).toBeLessThanOrEqual(6 * 60_000);
    expect(new Date(created.certificateData.notAfter).getUTCFullYear() - new Date(notBefore).getUTCFullYear()).toBe(10);

    expect(expectStatus(await api.get(`${IACAS}/${created.id}`), 200)).toEqual(created);
    const page = expectStatus(await api.get(`${IACAS}?limit=1000`), 200);
    expect(page.data).toContainEqual(created);
    expect(page.nextCursor).toBeNull();
    const defaults = expectStatus(await api.post(IACAS, { country: 'NZ' }), 201);
    expect(defaults.certificateData).toEqual({ notBefore: expect.any(String), notAfter: expect.any(String), country: 'NZ', commonName: 'vci-issuer IACA', serialNumber: expect.any(String) });
  });

  it('keeps the private key only encrypted under the server secret', async () => {
    const created = await api.createIaca();
    const { rows } = await issuer.database.pool.query('SELECT private_key FROM iacas WHERE id = $1', [created.id]);
    const sealed: Buffer = rows[0].private_key;
    expect(() => createPrivateKey({ key: sealed, format: 'der', type: 'pkcs8' })).toThrow();
    const opened = createPrivateKey({ key: issuer.secrets.decrypt(sealed), format: 'der', type: 'pkcs8' });
    const certificateKey = new X509Certificate(created.certificatePem).publicKey.export({ format: 'der', type: 'spki' });
    expect(createPublicKey(opened).export({ format: 'der', type: 'spki' }).equals(certificateKey)).toBe(true);
  });

  it('honours notBefore and notAfter within 20 years, and refuses what cannot be, naming the field; nothing is written', async () => {
    const notBefore = new Date(Date.now() + DAY).toISOString().replace(/\.\d{3}/, '');
    const notAfter = new Date(Date.now() + 20 * 365 * DAY).toISOString().replace(/\.\d{3}/, '');
    const chosen = expectStatus(await api.post(IACAS, { country: 'US', notBefore, notAfter }), 201);
    expect(chosen.certificateData).toMatchObject({ notBefore: new Date(notBefore).toISOString(), notAfter: new Date(notAfter).toISOString() });

    const count = await issuer.tables.count('iacas');
    const cases: [Record<string, unknown>, string[]][] = [
      [{}, ['country']],
      [{ country: 'usa' }, ['country']],
      [{ country: 'US', stateOrProvinceName: 'California' }, ['stateOrProvinceName']],
      [{ country: 'US', stateOrProvinceName: 'NL-NH' }, ['stateOrProvinceName']],
      [{ country: 'US', commonName: 'x'.repeat(65) }, ['commonName']],
      [{ country: 'US', notBefore: new Date(Date.now() - DAY).toISOString() }, ['notBefore']],
      [{ country: 'US', notAfter: new Date(Date.now() + 21 * 365 * DAY).toISOString() }, ['notAfter']],
      [{ country: 'US', notBefore, notAfter: notBefore }, ['notAfter']],
      [{ country: 'US', notAfter: 'next year' }, ['notAfter']],
      [{ country: 'US', certificatePem: chosen.certificatePem }, ['country']],
      [{ country: 'US', extra: true }, ['extra']],
    ];
    for (const [body, params] of cases) expectBadRequest(await api.post(IACAS, body), params);
    expect(await issuer.tables.count('iacas')).toBe(count);
  });
});

describe('IACAs: unmanaged', () => {
  it('registers the certificate of an IACA whose key stays offline: no key stored, data read from the certificate', async () => {
    const offline = await OfflineIaca.create({ country: 'NL', state: 'NL-NH' });
    const created = expectStatus(await api.post(IACAS, { certificatePem: offline.certificatePem }), 201);
    expect(created).toMatchObject({ active: false, isManaged: false, certificateData: { country: 'NL', stateOrProvinceName: 'NL-NH', commonName: 'Offline IACA' } });
    expect(Buffer.from(derOf(created.certificatePem)).equals(Buffer.from(offline.certificate.rawData))).toBe(true);
    const { rows } = await issuer.database.pool.query('SELECT private_key FROM iacas WHERE id = $1', [created.id]);
    expect(rows[0].private_key).toBeNull();
    // The same certificate twice is one IACA.
    expect(expectStatus(await api.post(IACAS, { certificatePem: offline.certificatePem }), 409).code).toBe('Conflict');
  });

  it('refuses what is not an IACA certificate (Annex B.1.2), saying why', async () => {
    const issued = await api.activeIaca();
    const signer = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: issued.id }), 201);
    const expired = await OfflineIaca.create({ notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) });
    const cases: [string, RegExp][] = [
      ['not PEM', /exactly one PEM certificate/],
      [`${issued.certificatePem}\n${issued.certificatePem}`, /exactly one PEM certificate/],
      ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', /not a valid X.509 certificate/],
      [signer.certificatePem, /must be self-signed.*basicConstraints/],
      [expired.certificatePem, /it expired on/],
    ];
    for (const [certificatePem, message] of cases) {
      const body = expectBadRequest(await api.post(IACAS, { certificatePem }), ['certificatePem']);
      expect(body.details[0]!.msg).toMatch(message);
    }
  });
});

describe('IACAs: activation and deletion', () => {
  it('at most three are active: the fourth is a 409 until one is deactivated', async () => {
    const iacas = await Promise.all([1, 2, 3, 4].map(() => api.createIaca()));
    for (const iaca of iacas.slice(0, 3)) expect(expectStatus(await api.put(`${IACAS}/${iaca.id}`, { active: true }), 200).active).toBe(true);
    const fourth = expectStatus(await api.put(`${IACAS}/${iacas[3]!.id}`, { active: true }), 409);
    expect(fourth).toEqual({ code: 'Conflict', message: expect.stringMatching(/At most 3 IACAs can be active/) });
    // Activating an active one again is no change.
    expectStatus(await api.put(`${IACAS}/${iacas[0]!.id}`, { active: true }), 200);
    expectStatus(await api.put(`${IACAS}/${iacas[0]!.id}`, { active: false }), 200);
    expectStatus(await api.put(`${IACAS}/${iacas[3]!.id}`, { active: true }), 200);
  });

  it('an expired IACA cannot be activated', async () => {
    const shortLived = await api.createIaca({ country: 'US', notAfter: new Date(Date.now() + 1500).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expectBadRequest(await api.put(`${IACAS}/${shortLived.id}`, { active: true }), ['active']);
  });

  it('PUT takes { active } only; unknown ids are 404, ids that are not uuids 400', async () => {
    const iaca = await api.createIaca();
    expectBadRequest(await api.put(`${IACAS}/${iaca.id}`, { active: 'yes' }), ['active']);
    expectBadRequest(await api.put(`${IACAS}/${iaca.id}`, { active: true, country: 'NL' }), ['country']);
    expect(expectStatus(await api.put(`${IACAS}/${randomUUID()}`, { active: true }), 404).code).toBe('NotFound');
    expectBadRequest(await api.get(`${IACAS}/not-a-uuid`), ['id'], 'params');
  });

  it('deletes an inactive IACA with its document signers; an active one is a 409', async () => {
    const iaca = await api.activeIaca();
    const signer = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    expect(expectStatus(await api.del(`${IACAS}/${iaca.id}`), 409).message).toMatch(/deactivate it first/);
    expectStatus(await api.put(`${IACAS}/${iaca.id}`, { active: false }), 200);
    expect((await api.del(`${IACAS}/${iaca.id}`)).statusCode).toBe(204);
    for (const url of [`${IACAS}/${iaca.id}`, `${IACAS}/${iaca.id}/certificate`, `${IACAS}/${iaca.id}/crl`, `${DOCUMENT_SIGNERS}/${signer.id}`]) {
      expect((await api.get(url)).statusCode, url).toBe(404);
    }
    expect((await api.del(`${IACAS}/${iaca.id}`)).statusCode).toBe(404);
  });
});

describe('document signers of a managed IACA', () => {
  it('POST { iacaId } issues the certificate at once: active, in the DS shape; list filters by IACA', async () => {
    const iaca = await api.activeIaca();
    const signer = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    expect(signer).toEqual({
      id: expect.any(String),
      iacaId: iaca.id,
      active: true,
      isManaged: true,
      certificatePem: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
      certificateData: { notBefore: expect.any(String), notAfter: expect.any(String), country: 'US', stateOrProvinceName: 'US-CA', commonName: 'vci-issuer Document Signer', serialNumber: expect.any(String) },
      certificateFingerprint: sha256(derOf(signer.certificatePem)),
      revoked: false,
    });
    expect(expectStatus(await api.get(`${DOCUMENT_SIGNERS}/${signer.id}`), 200)).toEqual(signer);
    expect(expectStatus(await api.get(`${DOCUMENT_SIGNERS}?iacaId=${iaca.id}`), 200).data).toEqual([signer]);
    // The service issues its certificates: none can be uploaded.
    expectBadRequest(await api.put(`${DOCUMENT_SIGNERS}/${signer.id}`, { active: true, certificatePem: signer.certificatePem }), ['certificatePem']);
    expect(expectStatus(await api.put(`${DOCUMENT_SIGNERS}/${signer.id}`, { active: false }), 200).active).toBe(false);
  });

  it('openssl x509 -text shows the Annex B profile: the IACA (B.1.2) and its document signer (B.1.4)', async () => {
    const iaca = await api.activeIaca();
    const signer = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    const iacaText = openssl(iaca.certificatePem);
    const crl = `URI:${PUBLIC_URL}${IACAS}/${iaca.id}/crl`;
    expect(iacaText).toMatch(/Issuer: C ?= ?US, ST ?= ?US-CA, CN ?= ?Test IACA/);
    expect(iacaText).toMatch(/Subject: C ?= ?US, ST ?= ?US-CA, CN ?= ?Test IACA/);
    expect(iacaText).toMatch(/ecdsa-with-SHA256/);
    expect(iacaText).toMatch(/NIST CURVE: P-256/);
    expect(extension(iacaText, 'Basic Constraints')).toBe('X509v3 Basic Constraints: critical CA:TRUE, pathlen:0');
    expect(extension(iacaText, 'Key Usage')).toBe('X509v3 Key Usage: critical Certificate Sign, CRL Sign');
    expect(extension(iacaText, 'Subject Key Identifier')).toMatch(/^X509v3 Subject Key Identifier: ([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(extension(iacaText, 'Issuer Alternative Name')).toBe(`X509v3 Issuer Alternative Name: URI:${PUBLIC_URL}`);
    expect(extension(iacaText, 'CRL Distribution Points')).toBe(`X509v3 CRL Distribution Points: Full Name: ${crl}`);

    const signerText = openssl(signer.certificatePem);
    const iacaSki = extension(iacaText, 'Subject Key Identifier').split(': ')[1]!;
    expect(signerText).toMatch(/Issuer: C ?= ?US, ST ?= ?US-CA, CN ?= ?Test IACA/);
    expect(signerText).toMatch(/Subject: C ?= ?US, ST ?= ?US-CA, CN ?= ?vci-issuer Document Signer/);
    expect(extension(signerText, 'Key Usage')).toBe('X509v3 Key Usage: critical Digital Signature');
    expect(extension(signerText, 'Extended Key Usage')).toBe(`X509v3 Extended Key Usage: critical ${MDL_DS_EKU}`);
    expect(extension(signerText, 'Authority Key Identifier')).toMatch(new RegExp(`^X509v3 Authority Key Identifier: (keyid:)?${iacaSki}$`));
    expect(extension(signerText, 'Subject Key Identifier')).toMatch(/^X509v3 Subject Key Identifier: ([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(extension(signerText, 'Issuer Alternative Name')).toBe(`X509v3 Issuer Alternative Name: URI:${PUBLIC_URL}`);
    expect(extension(signerText, 'CRL Distribution Points')).toBe(`X509v3 CRL Distribution Points: Full Name: ${crl}`);
    expect(extension(signerText, 'Basic Constraints')).toBe('');
    const validity = new X509Certificate(signer.certificatePem);
    expect((new Date(validity.validTo).getTime() - new Date(validity.validFrom).getTime()) / DAY).toBe(457);

    const [iacaFile, signerFile] = [iaca.certificatePem, signer.certificatePem].map((pem) => {
      const file = path.join(workDir, `${randomUUID()}.pem`);
      writeFileSync(file, pem);
      return file;
    });
    expect(execFileSync('/usr/bin/openssl', ['verify', '-CAfile', iacaFile!, '-purpose', 'any', signerFile!], { encoding: 'utf8' }).trim()).toBe(`${signerFile}: OK`);
  });

  it('POST for an unknown IACA is a 400 naming iacaId; for an expired one a 409', async () => {
    expectBadRequest(await api.post(DOCUMENT_SIGNERS, { iacaId: randomUUID() }), ['iacaId']);
    expectBadRequest(await api.post(DOCUMENT_SIGNERS, { iacaId: 'x' }), ['iacaId']);
    const shortLived = await api.createIaca({ country: 'US', notAfter: new Date(Date.now() + 1500).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: shortLived.id }), 409).message).toMatch(/expired/);
  });
});

describe('document signers of an unmanaged IACA: the CSR flow', () => {
  it('POST answers a CSR; the certificate the offline IACA signs is installed with PUT and the signer activated', async () => {
    const offline = await OfflineIaca.create();
    const iaca = expectStatus(await api.post(IACAS, { certificatePem: offline.certificatePem }), 201);
    const pending = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    expect(pending).toEqual({ id: expect.any(String), iacaId: iaca.id, active: false, isManaged: false, csrPem: expect.stringContaining('-----BEGIN CERTIFICATE REQUEST-----'), revoked: false });
    const csr = new x509.Pkcs10CertificateRequest(pending.csrPem);
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('C=NL, ST=NL-NH, CN=vci-issuer Document Signer');
    expect((csr.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe('P-256');

    // No certificate yet: it cannot be activated.
    expectBadRequest(await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { active: true }), ['active']);
    const certificatePem = await offline.sign(pending.csrPem);
    const installed = expectStatus(await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { certificatePem, active: true }), 200);
    expect(installed).toMatchObject({ id: pending.id, active: true, isManaged: false, csrPem: pending.csrPem, certificateData: { country: 'NL', stateOrProvinceName: 'NL-NH' } });
    expect(Buffer.from(derOf(installed.certificatePem)).equals(Buffer.from(derOf(certificatePem)))).toBe(true);
    // The same certificate again is no change; another one is a 409.
    expectStatus(await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { certificatePem, active: true }), 200);
    const other = await offline.sign(pending.csrPem);
    expect(expectStatus(await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { certificatePem: other, active: true }), 409).code).toBe('Conflict');
  });

  it('accepts a certificate openssl signed as the offline IACA', async () => {
    const key = path.join(workDir, 'openssl-iaca.key');
    const iacaFile = path.join(workDir, 'openssl-iaca.pem');
    const run = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { encoding: 'utf8' });
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key);
    run(
      'req', '-x509', '-new', '-key', key, '-sha256', '-days', '3650', '-subj', '/C=SE/ST=SE-AB/CN=openssl IACA',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'subjectKeyIdentifier=hash',
      '-addext', 'issuerAltName=URI:https://iaca.example.se',
      '-addext', 'crlDistributionPoints=URI:https://iaca.example.se/crl',
      '-out', iacaFile,
    );
    const iaca = expectStatus(await api.post(IACAS, { certificatePem: run('x509', '-in', iacaFile) }), 201);
    const pending = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    const csrFile = path.join(workDir, 'openssl-ds.csr');
    const extFile = path.join(workDir, 'openssl-ds.ext');
    writeFileSync(csrFile, pending.csrPem);
    writeFileSync(
      extFile,
      [
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=critical,${MDL_DS_EKU}`,
        'subjectKeyIdentifier=hash',
        'authorityKeyIdentifier=keyid',
        'issuerAltName=URI:https://iaca.example.se',
        'crlDistributionPoints=URI:https://iaca.example.se/crl',
      ].join('\n'),
    );
    const serial = `0x4${randomBytes(15).toString('hex')}`;
    const certificatePem = run('x509', '-req', '-in', csrFile, '-CA', iacaFile, '-CAkey', key, '-set_serial', serial, '-days', '365', '-sha256', '-extfile', extFile);
    const installed = expectStatus(await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { certificatePem, active: true }), 200);
    expect(installed.certificateData).toMatchObject({ country: 'SE', stateOrProvinceName: 'SE-AB' });
  });

  it('refuses a certificate for another key, from another IACA, off the profile, or expired, saying why; nothing changes', async () => {
    const offline = await OfflineIaca.create();
    const iaca = expectStatus(await api.post(IACAS, { certificatePem: offline.certificatePem }), 201);
    const pending = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    const otherCsr = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201).csrPem;
    const stranger = await OfflineIaca.create();
    const cases: [string, RegExp][] = [
      [await offline.sign(otherCsr), /its key is not the key of this document signer's CSR/],
      [await stranger.sign(pending.csrPem), /it is not signed by the IACA/],
      [await offline.sign(pending.csrPem, { signingKey: stranger.keys.privateKey }), /it is not signed by the IACA/],
      [await offline.sign(pending.csrPem, { extendedKeyUsages: [MDL_DS_EKU, '1.3.6.1.5.5.7.3.2'] }), /1\.0\.18013\.5\.1\.2 alone/],
      [await offline.sign(pending.csrPem, { notAfter: new Date(Date.now() + 500 * DAY) }), /exceeds 457 days/],
      [await offline.sign(pending.csrPem, { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) }), /it expired on/],
      [offline.certificatePem, /not a document signer certificate/],
    ];
    for (const [certificatePem, message] of cases) {
      const body = expectBadRequest(await api.put(`${DOCUMENT_SIGNERS}/${pending.id}`, { certificatePem, active: true }), ['certificatePem']);
      expect(body.details[0]!.msg).toMatch(message);
    }
    expect(expectStatus(await api.get(`${DOCUMENT_SIGNERS}/${pending.id}`), 200)).toEqual(pending);
  });
});

describe('revocation, the public certificate and the CRL', () => {
  it("revoking takes a signer out of service for good and puts it on its IACA's CRL, which stays when the signer is deleted", async () => {
    const iaca = await api.activeIaca();
    const signer = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    const crlOf = async () => {
      const response = await getBytes(`${IACAS}/${iaca.id}/crl`);
      expect(response.statusCode).toBe(200);
      expect(response.contentType).toBe('application/pkix-crl');
      const crl = new x509.X509Crl(new Uint8Array(response.bytes));
      expect(await crl.verify({ publicKey: new x509.X509Certificate(iaca.certificatePem).publicKey })).toBe(true);
      return crl;
    };
    expect((await crlOf()).entries).toEqual([]);

    const revoked = expectStatus(await api.post(`${DOCUMENT_SIGNERS}/${signer.id}/revoke`), 200);
    expect(revoked).toEqual({ revoked: true, revocationDate: expect.any(String) });
    expect(Math.abs(new Date(revoked.revocationDate).getTime() - Date.now())).toBeLessThan(60_000);
    expect(expectStatus(await api.get(`${DOCUMENT_SIGNERS}/${signer.id}`), 200)).toMatchObject({ active: false, revoked: true, revocationDate: revoked.revocationDate });
    expect(expectStatus(await api.post(`${DOCUMENT_SIGNERS}/${signer.id}/revoke`), 409).message).toMatch(/was revoked on/);
    expect((await api.put(`${DOCUMENT_SIGNERS}/${signer.id}`, { active: true })).statusCode).toBe(409);

    const listed = (await crlOf()).entries.map((entry) => [entry.serialNumber, entry.revocationDate.toISOString()]);
    expect(listed).toEqual([[signer.certificateData.serialNumber, revoked.revocationDate]]);
    expect((await api.del(`${DOCUMENT_SIGNERS}/${signer.id}`)).statusCode).toBe(204);
    expect((await api.get(`${DOCUMENT_SIGNERS}/${signer.id}`)).statusCode).toBe(404);
    expect((await crlOf()).entries.map((entry) => entry.serialNumber)).toEqual([signer.certificateData.serialNumber]);
  });

  it('openssl reads the CRL, issued by the IACA, with a CRL number and the next update', async () => {
    const iaca = await api.activeIaca();
    const signer = expectStatus(await api.post(DOCUMENT_SIGNERS, { iacaId: iaca.id }), 201);
    expectStatus(await api.post(`${DOCUMENT_SIGNERS}/${signer.id}/revoke`), 200);
    const file = path.join(workDir, `${randomUUID()}.crl`);
    writeFileSync(file, (await getBytes(`${IACAS}/${iaca.id}/crl`)).bytes);
    const text = execFileSync('/usr/bin/openssl', ['crl', '-inform', 'DER', '-in', file, '-text', '-noout'], { encoding: 'utf8' });
    expect(text).toMatch(/Issuer: C ?= ?US, ST ?= ?US-CA, CN ?= ?Test IACA/);
    expect(text).toMatch(/X509v3 CRL Number:/);
    expect(text).toMatch(/Next Update:/);
    expect(text).toContain(`Serial Number: ${signer.certificateData.serialNumber.toUpperCase()}`);
  });

  it('the certificate and CRL need no API key; an unmanaged IACA has no CRL here; unknown ids are 404', async () => {
    const iaca = await api.createIaca();
    const certificate = await api.get(`${IACAS}/${iaca.id}/certificate`, null);
    expect(certificate.statusCode).toBe(200);
    expect(certificate.headers['content-type']).toBe('application/x-pem-file');
    expect(certificate.body).toBe(iaca.certificatePem);
    const unmanaged = expectStatus(await api.post(IACAS, { certificatePem: (await OfflineIaca.create()).certificatePem }), 201);
    expect(expectStatus(await api.get(`${IACAS}/${unmanaged.id}/crl`, null), 404).message).toMatch(/owner/);
    expect((await api.get(`${IACAS}/${randomUUID()}/certificate`, null)).statusCode).toBe(404);
    expect((await api.get(`${IACAS}/${randomUUID()}/crl`, null)).statusCode).toBe(404);
  });
});

describe('events and roles', () => {
  it('each change records MATTR VII’s MOBILE_CREDENTIAL_* START and SUCCESS, a refused one START and FAIL', async () => {
    const requestId = (name: string) => `iacas-${name}-${randomUUID()}`;
    const call = async (name: string, method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => {
      const id = requestId(name);
      const response = await api.call(method, url, body, undefined, { 'x-request-id': id });
      return { response, events: (await issuer.tables.eventRows('request_id = $1', [id])).map((event) => event.type) };
    };
    const created = await call('create', 'POST', IACAS, TEST_IACA);
    expect(created.events).toEqual(['MOBILE_CREDENTIAL_IACA_CREATE_START', 'MOBILE_CREDENTIAL_IACA_CREATE_SUCCESS']);
    const iacaId = created.response.json().id;
    expect((await call('update', 'PUT', `${IACAS}/${iacaId}`, { active: true })).events).toEqual(['MOBILE_CREDENTIAL_IACA_UPDATE_START', 'MOBILE_CREDENTIAL_IACA_UPDATE_SUCCESS']);
    expect((await call('delete-active', 'DELETE', `${IACAS}/${iacaId}`)).events).toEqual(['MOBILE_CREDENTIAL_IACA_DELETE_START', 'MOBILE_CREDENTIAL_IACA_DELETE_FAIL']);
    const signer = await call('signer', 'POST', DOCUMENT_SIGNERS, { iacaId });
    expect(signer.events).toEqual(['MOBILE_CREDENTIAL_DOCUMENT_SIGNER_CREATE_START', 'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_CREATE_SUCCESS']);
    const signerId = signer.response.json().id;
    expect((await call('signer-update', 'PUT', `${DOCUMENT_SIGNERS}/${signerId}`, { active: false })).events).toEqual([
      'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_UPDATE_START',
      'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_UPDATE_SUCCESS',
    ]);
    expect((await call('revoke', 'POST', `${DOCUMENT_SIGNERS}/${signerId}/revoke`)).events).toEqual([
      'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_REVOKE_START',
      'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_REVOKE_SUCCESS',
    ]);
    expect((await call('signer-delete', 'DELETE', `${DOCUMENT_SIGNERS}/${signerId}`)).events).toEqual([
      'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_DELETE_START',
      'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_DELETE_SUCCESS',
    ]);
    const { rows } = await issuer.database.pool.query("SELECT category, data FROM events WHERE type = 'MOBILE_CREDENTIAL_DOCUMENT_SIGNER_REVOKE_SUCCESS' AND data->>'documentSignerId' = $1", [signerId]);
    expect(rows).toEqual([{ category: 'MobileCredential', data: { documentSignerId: signerId, iacaId, revocationDate: expect.any(String) } }]);
  });

  it('admin and issuer keys manage IACAs and signers; managed-issuer and auditor keys get 403 and change nothing', async () => {
    const issuerKey = (await api.createKey('issuer')).key;
    expectStatus(await api.post(IACAS, TEST_IACA, issuerKey), 201);
    expectStatus(await api.get(IACAS, issuerKey), 200);
    const count = await issuer.tables.count('iacas');
    for (const role of ['managed-issuer', 'auditor'] as const) {
      const key = (await api.createKey(role)).key;
      expect((await api.post(IACAS, TEST_IACA, key)).statusCode).toBe(403);
      expect((await api.get(DOCUMENT_SIGNERS, key)).statusCode).toBe(403);
    }
    expect(await issuer.tables.count('iacas')).toBe(count);
  });
});
