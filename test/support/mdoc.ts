import { createHash, createPublicKey, KeyObject, randomBytes, sign, verify as nodeVerify, webcrypto, X509Certificate } from 'node:crypto';
import { Verifier as Auth0Verifier } from '@auth0/mdl';
import { CoseKey, Holder, SessionTranscript, Verifier as OwfVerifier, type MdocContext, type VerificationAssessment } from '@owf/mdoc';
import { decode as cbor2Decode, encode as cbor2Encode, Tag as Cbor2Tag } from 'cbor2';
import { Encoder, Tag } from 'cbor-x';
import type { HolderKey } from './wallet.js';

// The holder and verifier sides of an mDoc, for the tests: a DeviceResponse with a device signature
// as a wallet presents it over OpenID4VP, two verifiers that know nothing of the issuer but its IACA
// certificate (@auth0/mdl and @owf/mdoc), and a hand check of the bytes with a third CBOR library
// (cbor2) and WebCrypto.

// The wallet's own encoder, configured as the issuer's must be (see src/formats/mso-mdoc/cbor.ts).
const wallet = new Encoder({ tagUint8Array: false, useRecords: false, mapsAsObjects: false, variableMapSize: true });
const encode = (value: unknown): Buffer => wallet.encode(value);
const tag24 = (value: unknown) => new Tag(encode(value), 24);

export const MDL_DOCTYPE = 'org.iso.18013.5.1.mDL';
export const MDL_NAMESPACE = 'org.iso.18013.5.1';

/** An OpenID4VP 1.0 (Appendix B.2.6.1) presentation: who asks, with which nonce, where the answer goes. */
export const PRESENTATION = { clientId: 'x509_san_dns:verifier.example.org', nonce: 'n-0S6_WzA2Mj', responseUri: 'https://verifier.example.org/response' };

/**
 * SessionTranscript = [null, null, ["OpenID4VPHandover", SHA-256(cbor([client_id, nonce, null, response_uri]))]];
 * `tagged` is cbor(#6.24(bstr .cbor SessionTranscript)), what @auth0/mdl takes.
 */
export function sessionTranscript(presentation = PRESENTATION) {
  const handover = createHash('sha256').update(encode([presentation.clientId, presentation.nonce, null, presentation.responseUri])).digest();
  const transcript = [null, null, ['OpenID4VPHandover', handover]];
  return { transcript, tagged: encode(tag24(transcript)) };
}

/** Pre-encoded map entries, concatenated: the IssuerSigned bytes go in verbatim, never decoded and re-encoded. */
function rawMap(entries: [string, Uint8Array][]): Buffer {
  return Buffer.concat([Buffer.from([0xa0 | entries.length]), ...entries.flatMap(([key, value]) => [encode(key), Buffer.from(value)])]);
}

/**
 * DeviceResponse { version, documents: [{ docType, issuerSigned, deviceSigned }], status } whose
 * deviceSignature (ES256, detached) is over DeviceAuthenticationBytes, signed with the holder key
 * the mDoc was bound to (ISO/IEC 18013-5 §9.1.3).
 */
export function deviceResponse(o: { docType: string; issuerSigned: Uint8Array; holder: HolderKey; presentation?: typeof PRESENTATION }): Buffer {
  const { transcript } = sessionTranscript(o.presentation);
  const deviceNameSpaces = tag24(new Map());
  const deviceAuthentication = encode(tag24(['DeviceAuthentication', transcript, o.docType, deviceNameSpaces]));
  const protectedHeader = encode(new Map([[1, -7]]));
  const signature = sign('sha256', encode(['Signature1', protectedHeader, Buffer.alloc(0), deviceAuthentication]), {
    key: KeyObject.from(o.holder.privateKey as webcrypto.CryptoKey),
    dsaEncoding: 'ieee-p1363',
  });
  const deviceSigned = new Map<string, unknown>([
    ['nameSpaces', deviceNameSpaces],
    ['deviceAuth', new Map([['deviceSignature', [protectedHeader, new Map(), null, signature]]])],
  ]);
  const document = rawMap([
    ['docType', encode(o.docType)],
    ['issuerSigned', o.issuerSigned],
    ['deviceSigned', encode(deviceSigned)],
  ]);
  return rawMap([
    ['version', encode('1.0')],
    ['documents', Buffer.concat([Buffer.from([0x81]), document])],
    ['status', encode(0)],
  ]);
}

export interface Verdict {
  ok: boolean;
  failed: string[];
  passed: number;
}

function checks() {
  const failed: string[] = [];
  let passed = 0;
  return {
    onCheck: (check: { status: string; check: string; reason?: string }) => {
      if (check.status === 'FAILED') failed.push(`${check.check}${check.reason ? ` (${check.reason})` : ''}`);
      else passed++;
    },
    verdict: (): Verdict => ({ ok: failed.length === 0, failed, passed }),
  };
}

/** @auth0/mdl's Verifier on a DeviceResponse, trusting `iacaPem` alone; the disclosed elements of the first document. */
export async function verifyWithAuth0(response: Uint8Array, iacaPem: string, presentation = PRESENTATION) {
  const { onCheck, verdict } = checks();
  try {
    const mdoc = await new Auth0Verifier([iacaPem]).verify(response, { encodedSessionTranscript: sessionTranscript(presentation).tagged, onCheck: onCheck as never });
    const document = mdoc.documents[0]!;
    const elements = Object.fromEntries(Object.keys(document.issuerSigned.nameSpaces).map((namespace) => [namespace, document.getIssuerNameSpace(namespace)]));
    return { ...verdict(), elements };
  } catch (error) {
    return { ...verdict(), ok: false, error: (error as Error).message, elements: {} as Record<string, Record<string, unknown>> };
  }
}

// --- @owf/mdoc: crypto and X.509 callbacks of its own, on node:crypto (not the issuer's @peculiar/x509) ---

const HASHES: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const COSE_HASHES: Record<number, string> = { [-7]: 'sha256', [-35]: 'sha384', [-36]: 'sha512' };
const dnField = (dn: string, field: string) =>
  dn
    .split('\n')
    .map((line) => line.split('='))
    .filter(([key]) => key === field)
    .map(([, ...value]) => value.join('='));

export const owfContext: MdocContext = {
  crypto: {
    random: (length) => new Uint8Array(randomBytes(length)),
    digest: ({ digestAlgorithm, bytes }) => new Uint8Array(createHash(HASHES[digestAlgorithm]!).update(bytes).digest()),
    calculateEphemeralMacKey: () => {
      throw new Error('MAC device authentication is not used here');
    },
  },
  cose: {
    sign1: {
      sign: () => {
        throw new Error('A verifier does not sign');
      },
      verify: ({ key, sign1 }) => {
        const hash = COSE_HASHES[sign1.protectedHeaders.headers.get(1) as number];
        if (!hash) return false;
        return nodeVerify(hash, sign1.toBeSigned, { key: createPublicKey({ key: key.jwk as never, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, sign1.signature);
      },
    },
    mac0: {
      sign: () => {
        throw new Error('A verifier does not MAC');
      },
      verify: () => false,
    },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) => dnField(new X509Certificate(certificate).issuer, field),
    getPublicKey: ({ certificate }) => CoseKey.fromJwk(new X509Certificate(certificate).publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
    verifyCertificateChain: ({ trustedCertificates, x5chain, now = new Date() }) => {
      // Leaf first; the last must be issued by a trusted IACA, and every certificate valid now.
      const chain = x5chain.map((certificate) => new X509Certificate(certificate));
      const anchors = trustedCertificates.map((certificate) => new X509Certificate(certificate));
      for (let index = 0; index + 1 < chain.length; index++) {
        if (!chain[index]!.checkIssued(chain[index + 1]!) || !chain[index]!.verify(chain[index + 1]!.publicKey)) throw new Error(`x5chain[${index}] is not issued by the next`);
      }
      const last = chain.at(-1)!;
      const anchor = anchors.find((candidate) => last.checkIssued(candidate) && last.verify(candidate.publicKey));
      if (!anchor?.ca) throw new Error('The x5chain does not chain to a trusted IACA');
      for (const certificate of [...chain, anchor]) {
        if (new Date(certificate.validFrom) > now || now > new Date(certificate.validTo)) throw new Error(`${certificate.subject} is not valid now`);
      }
    },
    getCertificateData: ({ certificate }) => {
      const parsed = new X509Certificate(certificate);
      return {
        issuerName: parsed.issuer.replace(/\n/g, ', '),
        subjectName: parsed.subject.replace(/\n/g, ', '),
        serialNumber: parsed.serialNumber,
        thumbprint: parsed.fingerprint256.replace(/:/g, '').toLowerCase(),
        notBefore: new Date(parsed.validFrom),
        notAfter: new Date(parsed.validTo),
        pem: parsed.toString(),
      };
    },
  },
};

const derOf = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);

/** @owf/mdoc Holder.verifyIssuerSigned on the OpenID4VCI credential (base64url IssuerSigned), trusting `iacaPem` alone. */
export async function verifyIssuerSignedWithOwf(credential: string, iacaPem: string): Promise<Verdict> {
  const { onCheck, verdict } = checks();
  try {
    await Holder.verifyIssuerSigned({ issuerSigned: credential, trustedCertificates: [derOf(iacaPem)], verificationCallback: onCheck as (check: VerificationAssessment) => void }, owfContext);
  } catch (error) {
    return { ...verdict(), ok: false, failed: [...verdict().failed, (error as Error).message] };
  }
  return verdict();
}

/** @owf/mdoc Verifier.verifyDeviceResponse, with the session transcript it derives itself for the same presentation. */
export async function verifyDeviceResponseWithOwf(response: Uint8Array, iacaPem: string, presentation = PRESENTATION): Promise<Verdict> {
  const { onCheck, verdict } = checks();
  try {
    const transcript = await SessionTranscript.forOid4Vp(presentation, owfContext);
    await OwfVerifier.verifyDeviceResponse(
      { deviceResponse: response, sessionTranscript: transcript, trustedCertificates: [derOf(iacaPem)], onCheck: onCheck as (check: VerificationAssessment) => void },
      owfContext,
    );
  } catch (error) {
    return { ...verdict(), ok: false, failed: [...verdict().failed, (error as Error).message] };
  }
  return verdict();
}

// --- the hand check: cbor2, which decodes what cbor-x encoded without sharing any of its code ---

// ignoreGlobalTags keeps tags as Tags (cbor2 would turn tags 0 and 1004 both into Dates);
// requirePreferred refuses any encoding that is not the preferred (shortest) one.
const decodeStrictly = (bytes: Uint8Array): unknown => cbor2Decode(new Uint8Array(bytes), { ignoreGlobalTags: true, preferMap: true, requirePreferred: true });
const TDATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface HandCheck {
  problems: string[];
  /** namespace → element → value (cbor2's: Tags, Maps, Uint8Arrays). */
  elements: Map<string, Map<string, unknown>>;
  digestIds: number[];
  mso: Map<string, unknown>;
  deviceKey: Map<number, unknown>;
  documentSigner: X509Certificate;
}

/**
 * Checks an IssuerSigned by hand (ISO/IEC 18013-5 §9.1.2): untagged COSE_Sign1 with protected header
 * exactly { 1: -7 } and the document signer alone (not a CA) as x5chain (label 33); a signature that
 * WebCrypto verifies with that certificate's key; the MSO in tag 24, SHA-256, validity tdates without
 * fractions; every item tag 24 with a random of at least 16 bytes, a digest id below 2^31 unique in
 * its namespace, and the digest of its tag-24 bytes in valueDigests; full-dates as tag 1004.
 */
export async function handCheck(issuerSignedBytes: Uint8Array): Promise<HandCheck> {
  const problems: string[] = [];
  const expect = (condition: unknown, problem: string) => {
    if (!condition) problems.push(problem);
  };
  const issuerSigned = decodeStrictly(issuerSignedBytes) as Map<string, unknown>;
  expect([...issuerSigned.keys()].join() === 'nameSpaces,issuerAuth', 'IssuerSigned has nameSpaces and issuerAuth only');
  const issuerAuth = issuerSigned.get('issuerAuth');
  expect(Array.isArray(issuerAuth) && issuerAuth.length === 4, 'issuerAuth is an untagged COSE_Sign1 array');
  const [protectedBytes, unprotected, payload, signature] = issuerAuth as [Uint8Array, Map<number, unknown>, Uint8Array, Uint8Array];
  const protectedHeader = decodeStrictly(protectedBytes) as Map<number, unknown>;
  expect(protectedHeader.size === 1 && protectedHeader.get(1) === -7, 'protected header is exactly { 1: -7 } (ES256)');
  expect(unprotected instanceof Map && unprotected.size === 1 && unprotected.get(33) instanceof Uint8Array, 'unprotected header is { 33: bstr }: one certificate');
  const documentSigner = new X509Certificate(unprotected.get(33) as Uint8Array);
  expect(!documentSigner.ca, 'x5chain holds the document signer only, not a CA');
  expect(signature instanceof Uint8Array && signature.length === 64, 'the signature is r‖s, 64 bytes');

  const toBeSigned = cbor2Encode(['Signature1', new Uint8Array(protectedBytes), new Uint8Array(0), new Uint8Array(payload)]);
  const key = await webcrypto.subtle.importKey('spki', documentSigner.publicKey.export({ format: 'der', type: 'spki' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  expect(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array(signature), toBeSigned), 'the issuerAuth signature verifies with the x5chain key');

  const msoTag = decodeStrictly(payload) as Cbor2Tag;
  expect(msoTag instanceof Cbor2Tag && msoTag.tag === 24, 'the payload is tag 24');
  const mso = decodeStrictly(msoTag.contents as Uint8Array) as Map<string, unknown>;
  expect(mso.get('version') === '1.0' && mso.get('digestAlgorithm') === 'SHA-256', 'MSO version 1.0, SHA-256');
  const validity = mso.get('validityInfo') as Map<string, Cbor2Tag>;
  for (const name of ['signed', 'validFrom', 'validUntil']) {
    const value = validity.get(name);
    expect(value instanceof Cbor2Tag && value.tag === 0 && TDATE.test(String(value.contents)), `validityInfo.${name} is a tdate (tag 0) without fractions`);
  }
  const deviceKey = (mso.get('deviceKeyInfo') as Map<string, unknown>).get('deviceKey') as Map<number, unknown>;

  const elements = new Map<string, Map<string, unknown>>();
  const allIds: number[] = [];
  const valueDigests = mso.get('valueDigests') as Map<string, Map<number, Uint8Array>>;
  for (const [namespace, items] of issuerSigned.get('nameSpaces') as Map<string, Cbor2Tag[]>) {
    const ids = new Set<number>();
    const values = new Map<string, unknown>();
    for (const itemTag of items) {
      expect(itemTag instanceof Cbor2Tag && itemTag.tag === 24, `${namespace}: each item is tag 24`);
      const item = decodeStrictly(itemTag.contents as Uint8Array) as Map<string, unknown>;
      expect([...item.keys()].join() === 'digestID,random,elementIdentifier,elementValue', `${namespace}: item members`);
      const id = item.get('digestID') as number;
      expect(Number.isInteger(id) && id >= 0 && id < 2 ** 31 && !ids.has(id), `${namespace}: digest id unique, below 2^31`);
      ids.add(id);
      allIds.push(id);
      expect((item.get('random') as Uint8Array).length >= 16, `${namespace}: random of at least 16 bytes`);
      // The digest is over the whole tag-24 encoding: d8 18, the bstr header, the bytes.
      const digest = createHash('sha256').update(cbor2Encode(new Cbor2Tag(24, new Uint8Array(itemTag.contents as Uint8Array)))).digest();
      expect(digest.equals(Buffer.from(valueDigests.get(namespace)?.get(id) ?? [])), `${namespace}/${String(item.get('elementIdentifier'))}: digest recomputes`);
      values.set(item.get('elementIdentifier') as string, item.get('elementValue'));
    }
    expect(valueDigests.get(namespace)?.size === items.length, `${namespace}: one digest per item`);
    elements.set(namespace, values);
  }
  return { problems, elements, digestIds: allIds, mso, deviceKey, documentSigner };
}

/** A full-date element: tag 1004 around "YYYY-MM-DD". */
export const isFullDateTag = (value: unknown, expected?: string) =>
  value instanceof Cbor2Tag && value.tag === 1004 && FULL_DATE.test(String(value.contents)) && (expected === undefined || value.contents === expected);

export { Cbor2Tag };

// --- an mDL and another docType, as an issuer back-end would configure and offer them ---

/** A tiny JPEG (SOI, APP0, EOI), base64, as a back-end sends a portrait. */
export const PORTRAIT = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

const element = (mapFrom: string, type = 'string', required = true) => ({ mapFrom, type, required });

/** Every mandatory element of the mDL namespace (ISO/IEC 18013-5 §7.2.1), and some optional ones. */
export const MDL_CONFIGURATION = {
  type: MDL_DOCTYPE,
  name: 'Mobile driving licence',
  claimMappings: {
    [MDL_NAMESPACE]: {
      family_name: element('claims.familyName'),
      given_name: element('claims.givenName'),
      birth_date: element('claims.birthDate', 'date'),
      issue_date: element('claims.issueDate', 'date'),
      expiry_date: element('claims.expiryDate', 'date'),
      issuing_country: { ...element('claims.issuingCountry'), defaultValue: 'US' },
      issuing_authority: element('claims.issuingAuthority'),
      document_number: element('claims.documentNumber'),
      portrait: element('claims.portrait', 'binary'),
      driving_privileges: element('claims.drivingPrivileges', 'array'),
      un_distinguishing_sign: element('claims.unDistinguishingSign'),
      issuing_jurisdiction: element('claims.issuingJurisdiction', 'string', false),
      age_over_18: element('claims.ageOver18', 'boolean', false),
      height: element('claims.height', 'number', false),
    },
  },
  expiresIn: { days: 365 },
  branding: { name: 'Driving licence', backgroundColor: '#003366' },
};

export const MDL_CLAIMS = {
  familyName: 'Doe',
  givenName: 'Jane',
  birthDate: '1990-04-12',
  issueDate: '2026-01-15',
  expiryDate: '2031-01-15',
  issuingAuthority: 'Example DMV',
  issuingJurisdiction: 'US-CA',
  documentNumber: 'D1234567',
  portrait: PORTRAIT.toString('base64'),
  drivingPrivileges: [
    { vehicle_category_code: 'B', issue_date: '2010-05-01', expiry_date: '2031-01-15' },
    { vehicle_category_code: 'A', issue_date: '2012-07-01', expiry_date: '2031-01-15', codes: [{ code: '01', sign: '=', value: '01.06' }] },
  ],
  unDistinguishingSign: 'USA',
  ageOver18: true,
  height: 170,
};

/** A docType of another kind: an employee badge, with every element type. */
export const BADGE_DOCTYPE = 'com.example.employee.1';
export const BADGE_CONFIGURATION = {
  type: BADGE_DOCTYPE,
  claimMappings: {
    [BADGE_DOCTYPE]: {
      employee_id: element('user.id'),
      name: element('claims.name'),
      start_date: element('claims.startDate', 'date'),
      badge_printed_at: element('claims.printedAt', 'dateTime'),
      photo: element('claims.photo', 'binary'),
      clearance_level: element('claims.level', 'number'),
      full_time: element('claims.fullTime', 'boolean'),
      sites: element('claims.sites', 'array'),
      address: element('claims.address', 'object'),
    },
  },
  expiresIn: { years: 2 },
};
export const BADGE_CLAIMS = {
  name: 'Ada Lovelace',
  startDate: '2024-03-01',
  printedAt: '2024-03-01T09:30:15.250+01:00',
  photo: PORTRAIT.toString('base64url'),
  level: 3,
  fullTime: true,
  sites: ['London', 'Paris'],
  address: { street: '12 St James Sq', city: 'London', floor: 2 },
};
