import { X509Certificate as NodeCertificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// src/keys first: it installs the Reflect metadata stand-in that @peculiar/x509 needs before it loads.
import { generateCertificateChain } from '../src/keys/certificates.js';
import { ensureActiveKey, publishedJwks, rotateKey, type IssuerKey } from '../src/keys/issuer-keys.js';
import { loadSigningKey } from '../src/keys/signing-key.js';
import { ISSUER_KEY_TOPIC } from '../src/keys/store.js';
import * as x509 from '@peculiar/x509';
import { EVENTS, ISSUER_KEYS } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const ctx = () => issuer.app.ctx;
const audit = { requestId: 'keys-test', actor: null };

interface KeyItem {
  kid: string;
  status: 'active' | 'retired';
  publicJwk: Record<string, string>;
  certificateChain: string[];
  createdAt: string;
  retiredAt: string | null;
  publishUntil: string | null;
}

async function listKeys(): Promise<KeyItem[]> {
  const response = await issuer.client.get(ISSUER_KEYS);
  expect(response.statusCode).toBe(200);
  return response.json().data;
}

async function activeRows() {
  return (await issuer.database.pool.query("SELECT * FROM issuer_keys WHERE status = 'active'")).rows;
}

/** A credential_issuances row as the credential endpoint writes it, for `publish_until`. */
async function recordIssuance(issuerKid: string, expiresAt: Date | null) {
  await issuer.database.pool.query(
    `INSERT INTO credential_issuances (id, offer_id, access_token_id, configuration_id, user_id, holder_key_thumbprint, credential_hash, issuer_kid, expires_at, format, type, valid_from)
     VALUES ($1, $2, $3, $4, $5, 'thumbprint', 'hash', $6, $7, 'dc+sd-jwt', 'https://credentials.example.com/test', now())`,
    [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), issuerKid, expiresAt],
  );
}

async function signAndVerify(): Promise<{ kid: string; header: ReturnType<typeof decodeProtectedHeader> }> {
  const key = await loadSigningKey(ctx());
  const jwt = await new SignJWT({ iss: issuer.config.publicUrl })
    .setProtectedHeader({ alg: 'ES256', typ: 'dc+sd-jwt', kid: key.kid, x5c: [...key.x5c] })
    .setIssuedAt()
    .sign(key.privateKey);
  const { protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await publishedJwks(ctx())));
  return { kid: key.kid, header: protectedHeader };
}

// --- certificates made the way a CA would, for the upload tests ---

const EC = (namedCurve = 'P-256') => ({ name: 'ECDSA', namedCurve }) as const;
const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

const newKeys = async (namedCurve = 'P-256') => (await webcrypto.subtle.generateKey(EC(namedCurve), true, ['sign', 'verify'])) as CryptoKeyPair;

async function certificate(
  subject: string,
  subjectKey: CryptoKey,
  issuer: { name: string; key: CryptoKey },
  options: { ca?: boolean; notBefore?: Date; notAfter?: Date } = {},
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    subject,
    issuer: issuer.name,
    publicKey: subjectKey,
    signingKey: issuer.key,
    signingAlgorithm: ES256,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY),
    extensions: options.ca
      ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)]
      : [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Root → intermediate → leaf, the way an external CA issues a document signer certificate. */
async function externalChain(leafOptions: { notBefore?: Date; notAfter?: Date } = {}) {
  const [root, intermediate, leaf] = [await newKeys(), await newKeys(), await newKeys()];
  const rootCert = await certificate('CN=Test Root', root.publicKey, { name: 'CN=Test Root', key: root.privateKey }, { ca: true });
  const intermediateCert = await certificate('CN=Test Intermediate', intermediate.publicKey, { name: 'CN=Test Root', key: root.privateKey }, { ca: true });
  const leafCert = await certificate('CN=issuer.example.com', leaf.publicKey, { name: 'CN=Test Intermediate', key: intermediate.privateKey }, leafOptions);
  return {
    keys: leaf,
    privateKeyPem: await privateKeyPem(leaf.privateKey),
    certs: { root: rootCert, intermediate: intermediateCert, leaf: leafCert },
    certificateChainPem: [leafCert, intermediateCert, rootCert].map((cert) => cert.toString('pem')).join('\n'),
  };
}

const base64 = (cert: x509.X509Certificate) => Buffer.from(cert.rawData).toString('base64');

describe('the first key', () => {
  it('is created exactly once when instances start at the same time', async () => {
    const second = await startTestIssuer({ databaseUrl: issuer.databaseUrl });
    // The test harness already made one on start: begin again from an empty table.
    await issuer.database.pool.query('DELETE FROM issuer_keys');
    try {
      const created: IssuerKey[] = await Promise.all(Array.from({ length: 10 }, (_, i) => ensureActiveKey((i % 2 ? second : issuer).app.ctx)));
      expect(new Set(created.map((key) => key.kid)).size).toBe(1);
      const { rows } = await issuer.database.pool.query('SELECT kid, status FROM issuer_keys');
      expect(rows).toEqual([{ kid: created[0]!.kid, status: 'active' }]);
      expect((await ensureActiveKey(ctx())).kid).toBe(created[0]!.kid);
    } finally {
      await second.close();
    }
  });

  it('keeps the private key encrypted at rest', async () => {
    const [row] = await activeRows();
    const pkcs8: Buffer = issuer.secrets.decrypt(row.private_key);
    const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(row.private_key.includes(pkcs8)).toBe(false);
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    expect(row.private_key.includes(d)).toBe(false);
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
    expect(row.public_jwk).toEqual({ kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y });
    expect(row.kid).toBe(await calculateJwkThumbprint(row.public_jwk));
  });

  it('has a certificate chain: a self-signed root CA and a leaf it signed for the public key', async () => {
    const [row] = await activeRows();
    expect(row.certificate_chain).toHaveLength(2);
    for (const der of row.certificate_chain) expect(der).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const [leaf, root] = row.certificate_chain.map((der: string) => new x509.X509Certificate(new Uint8Array(Buffer.from(der, 'base64'))));

    expect(await root.isSelfSigned()).toBe(true);
    expect(root.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(await leaf.verify({ publicKey: root.publicKey })).toBe(true);
    expect(await leaf.isSelfSigned()).toBe(false);
    expect(leaf.issuer).toBe(root.subject);
    expect(leaf.subject).toBe('CN=issuer.example.com');
    expect(leaf.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(leaf.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
    expect(san).toEqual(expect.arrayContaining([{ type: 'url', value: 'https://issuer.example.com' }, { type: 'dns', value: 'issuer.example.com' }]));

    const leafJwk = new NodeCertificate(Buffer.from(row.certificate_chain[0], 'base64')).publicKey.export({ format: 'jwk' });
    expect(await calculateJwkThumbprint(leafJwk)).toBe(row.kid);
  });

  it('names an IP address host with an IP SAN', async () => {
    const keys = (await webcrypto.subtle.generateKey(EC(), true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const [leafDer] = await generateCertificateChain(keys, 'http://127.0.0.1:3000');
    const leaf = new x509.X509Certificate(new Uint8Array(Buffer.from(leafDer!, 'base64')));
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'url', value: 'http://127.0.0.1:3000' },
      { type: 'ip', value: '127.0.0.1' },
    ]);
  });
});

describe('signing', () => {
  it('signs JWTs that verify against the published JWKS, with the leaf alone in x5c', async () => {
    const [row] = await activeRows();
    const { kid, header } = await signAndVerify();
    expect(kid).toBe(row.kid);
    expect(header.x5c).toEqual([row.certificate_chain[0]]);

    const { keys } = await publishedJwks(ctx());
    expect(keys).toEqual([{ kty: 'EC', crv: 'P-256', x: row.public_jwk.x, y: row.public_jwk.y, kid, alg: 'ES256', use: 'sig', x5c: [row.certificate_chain[0]] }]);
    const leafJwk = new NodeCertificate(Buffer.from(keys[0]!.x5c[0]!, 'base64')).publicKey.export({ format: 'jwk' });
    expect({ x: leafJwk.x, y: leafJwk.y }).toEqual({ x: keys[0]!.x, y: keys[0]!.y });
  });

  it('imports the key once; a rotation on another instance reaches this one by notification', async () => {
    const first = await loadSigningKey(ctx());
    expect(await loadSigningKey(ctx())).toBe(first);
    const second = await startTestIssuer({ databaseUrl: issuer.databaseUrl });
    try {
      const rotated = await second.client.post(`${ISSUER_KEYS}/rotate`);
      expect(rotated.statusCode).toBe(201);
      await vi.waitFor(async () => expect((await loadSigningKey(ctx())).kid).toBe(rotated.json().kid), { timeout: 5000, interval: 20 });
    } finally {
      await second.close();
    }
  });

  it('is trusted for at most 10 seconds even when no notification arrives', async () => {
    const first = await loadSigningKey(ctx());
    // A rotation whose notification is lost: written straight to the table.
    await issuer.database.pool.query("UPDATE issuer_keys SET status = 'retired' WHERE kid = $1", [first.kid]);
    await ensureActiveKey(ctx());
    expect((await loadSigningKey(ctx())).kid).toBe(first.kid);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10_001);
      expect((await loadSigningKey(ctx())).kid).not.toBe(first.kid);
    } finally {
      vi.useRealTimers();
      // The lost notification, delivered: later tests start from a cache that matches the table.
      ctx().invalidations.applyLocally({ topic: ISSUER_KEY_TOPIC, key: '*' });
    }
  });
});

describe('rotation', () => {
  it('retires the old key, which stays published until the credentials it signed expire', async () => {
    const old = await loadSigningKey(ctx());
    const expiresAt = new Date(Date.now() + 30 * DAY);
    await recordIssuance(old.kid, new Date(Date.now() + DAY));
    await recordIssuance(old.kid, expiresAt);
    await recordIssuance(old.kid, new Date(Date.now() - DAY));

    const response = await issuer.client.post(`${ISSUER_KEYS}/rotate`);
    expect(response.statusCode).toBe(201);
    const created: KeyItem = response.json();
    expect(created).toMatchObject({ status: 'active', retiredAt: null, publishUntil: null });
    expect(created.kid).not.toBe(old.kid);
    expect(created.certificateChain).toHaveLength(2);
    expect(created.certificateChain[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);

    const keys = await listKeys();
    expect(keys[0]).toEqual(created);
    const retired = keys.find((key) => key.kid === old.kid)!;
    expect(retired).toMatchObject({ status: 'retired', retiredAt: expect.any(String), publishUntil: expiresAt.toISOString() });
    expect(keys.filter((key) => key.status === 'active')).toHaveLength(1);

    // This instance switches at once; the other key still verifies what it signed.
    expect((await loadSigningKey(ctx())).kid).toBe(created.kid);
    const published = (await publishedJwks(ctx())).keys.map((key) => key.kid);
    expect(published).toEqual(expect.arrayContaining([created.kid, old.kid]));
    expect((await signAndVerify()).kid).toBe(created.kid);
  });

  it('publishes a key for ever when a credential it signed never expires, and not at all when it signed none', async () => {
    const neverExpiring = await loadSigningKey(ctx());
    await recordIssuance(neverExpiring.kid, null);
    await rotateKey(ctx(), audit);
    const unused = await loadSigningKey(ctx());
    await rotateKey(ctx(), audit);

    const keys = await listKeys();
    expect(keys.find((key) => key.kid === neverExpiring.kid)).toMatchObject({ status: 'retired', publishUntil: null });
    const retiredUnused = keys.find((key) => key.kid === unused.kid)!;
    expect(Date.parse(retiredUnused.publishUntil!)).toBeLessThanOrEqual(Date.now());
    const published = (await publishedJwks(ctx())).keys.map((key) => key.kid);
    expect(published).toContain(neverExpiring.kid);
    expect(published).not.toContain(unused.kid);
  });

  it('keeps publishing a retired key that an instance used after its retirement', async () => {
    const stale = await loadSigningKey(ctx());
    await rotateKey(ctx(), audit);
    expect((await publishedJwks(ctx())).keys.map((key) => key.kid)).not.toContain(stale.kid);
    // Another instance's cache still held it for a few seconds and signed with it.
    await recordIssuance(stale.kid, new Date(Date.now() + DAY));
    expect((await publishedJwks(ctx())).keys.map((key) => key.kid)).toContain(stale.kid);
  });
});

describe('replacing the key', () => {
  it('accepts a PKCS#8 key with its chain and signs with it, without the root in x5c', async () => {
    const upload = await externalChain();
    const response = await issuer.client.put(ISSUER_KEYS, { privateKeyPem: upload.privateKeyPem, certificateChainPem: upload.certificateChainPem });
    expect(response.statusCode).toBe(200);
    const key: KeyItem = response.json();
    const expectedKid = await calculateJwkThumbprint(await webcrypto.subtle.exportKey('jwk', upload.keys.publicKey));
    expect(key).toMatchObject({ kid: expectedKid, status: 'active' });
    expect(key.certificateChain).toEqual([upload.certs.leaf, upload.certs.intermediate, upload.certs.root].map((cert) => cert.toString('pem') + '\n'));

    const signing = await loadSigningKey(ctx());
    expect(signing.kid).toBe(expectedKid);
    expect(signing.x5c).toEqual([base64(upload.certs.leaf), base64(upload.certs.intermediate)]);
    const { header } = await signAndVerify();
    expect(header.kid).toBe(expectedKid);
    const jwk = (await publishedJwks(ctx())).keys.find((k) => k.kid === expectedKid)!;
    expect(jwk.x5c).toEqual([base64(upload.certs.leaf), base64(upload.certs.intermediate)]);

    const again = await issuer.client.put(ISSUER_KEYS, { privateKeyPem: upload.privateKeyPem, certificateChainPem: upload.certificateChainPem });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'Conflict' });
  });

  it('accepts a SEC1 key (BEGIN EC PRIVATE KEY), also with the EC PARAMETERS block openssl ecparam -genkey writes before it', async () => {
    for (const withParameters of [false, true]) {
      const upload = await externalChain();
      const sec1 = createPrivateKey(upload.privateKeyPem).export({ type: 'sec1', format: 'pem' }) as string;
      expect(sec1).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
      const privateKeyPem = withParameters ? `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1}` : sec1;
      const response = await issuer.client.put(ISSUER_KEYS, { privateKeyPem, certificateChainPem: upload.certificateChainPem });
      expect(response.statusCode, response.body).toBe(200);
      const expectedKid = await calculateJwkThumbprint(await webcrypto.subtle.exportKey('jwk', upload.keys.publicKey));
      expect(response.json().kid).toBe(expectedKid);
      const { header } = await signAndVerify();
      expect(header.kid).toBe(expectedKid);
    }
  });

  it('refuses an encrypted key with the command that decrypts it', async () => {
    const upload = await externalChain();
    const key = createPrivateKey(upload.privateKeyPem);
    const encrypted = [
      key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string,
      key.export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string,
    ];
    for (const privateKeyPem of encrypted) {
      const response = await issuer.client.put(ISSUER_KEYS, { privateKeyPem, certificateChainPem: upload.certificateChainPem });
      expect(response.statusCode).toBe(400);
      expect(response.json().details).toEqual([{ location: 'body', param: 'privateKeyPem', msg: 'Is encrypted; decrypt it first: openssl pkcs8 -in key.pem -out key.pk8.pem' }]);
    }
  });

  it('keeps a chain that stops below the root whole', async () => {
    const upload = await externalChain();
    const chain = [upload.certs.leaf, upload.certs.intermediate].map((cert) => cert.toString('pem')).join('\n');
    const response = await issuer.client.put(ISSUER_KEYS, { privateKeyPem: upload.privateKeyPem, certificateChainPem: chain });
    expect(response.statusCode).toBe(200);
    expect((await loadSigningKey(ctx())).x5c).toEqual([base64(upload.certs.leaf), base64(upload.certs.intermediate)]);
  });

  it('rejects bad keys and chains with 400 naming the field, and keeps the active key', async () => {
    const good = await externalChain();
    const other = await externalChain();
    const selfSigned = await newKeys();
    const selfSignedCert = await certificate('CN=Self', selfSigned.publicKey, { name: 'CN=Self', key: selfSigned.privateKey });
    const expired = await externalChain({ notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const p384Sec1 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const pem = (...certs: x509.X509Certificate[]) => certs.map((cert) => cert.toString('pem')).join('\n');

    const cases: [string, { privateKeyPem: string; certificateChainPem: string }, string][] = [
      ['mismatched key and certificate', { privateKeyPem: other.privateKeyPem, certificateChainPem: good.certificateChainPem }, 'certificateChainPem'],
      ['garbage key', { privateKeyPem: 'not a key', certificateChainPem: good.certificateChainPem }, 'privateKeyPem'],
      ['garbage inside a key PEM', { privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', certificateChainPem: good.certificateChainPem }, 'privateKeyPem'],
      ['garbage chain', { privateKeyPem: good.privateKeyPem, certificateChainPem: 'garbage' }, 'certificateChainPem'],
      ['garbage inside a certificate PEM', { privateKeyPem: good.privateKeyPem, certificateChainPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, 'certificateChainPem'],
      ['broken PEM armour', { privateKeyPem: good.privateKeyPem, certificateChainPem: good.certificateChainPem.replace('-----END CERTIFICATE-----', '') }, 'certificateChainPem'],
      ['a P-384 key', { privateKeyPem: p384, certificateChainPem: good.certificateChainPem }, 'privateKeyPem'],
      ['an Ed25519 key', { privateKeyPem: ed25519, certificateChainPem: good.certificateChainPem }, 'privateKeyPem'],
      ['a SEC1 key on P-384', { privateKeyPem: p384Sec1, certificateChainPem: good.certificateChainPem }, 'privateKeyPem'],
      ['a private key in the chain', { privateKeyPem: good.privateKeyPem, certificateChainPem: `${good.certificateChainPem}\n${good.privateKeyPem}` }, 'certificateChainPem'],
      ['an expired leaf', { privateKeyPem: expired.privateKeyPem, certificateChainPem: expired.certificateChainPem }, 'certificateChainPem'],
      ['a chain out of order', { privateKeyPem: good.privateKeyPem, certificateChainPem: pem(good.certs.leaf, good.certs.root, good.certs.intermediate) }, 'certificateChainPem'],
      ['a chain with the root first', { privateKeyPem: good.privateKeyPem, certificateChainPem: pem(good.certs.root, good.certs.intermediate, good.certs.leaf) }, 'certificateChainPem'],
      ['a self-signed leaf', { privateKeyPem: await privateKeyPem(selfSigned.privateKey), certificateChainPem: pem(selfSignedCert) }, 'certificateChainPem'],
    ];
    const before = (await ensureActiveKey(ctx())).kid;
    for (const [name, payload, param] of cases) {
      const response = await issuer.client.put(ISSUER_KEYS, payload);
      expect(response.statusCode, name).toBe(400);
      const body = response.json();
      expect(body, name).toMatchObject({ code: 'BadRequest', details: [{ location: 'body', param, msg: expect.any(String) }] });
    }
    expect((await activeRows()).map((row) => row.kid)).toEqual([before]);
  });

  it('validates the body shape', async () => {
    const missing = await issuer.client.put(ISSUER_KEYS, { privateKeyPem: 'x', extra: 1 });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details.map((d: { param: string }) => d.param).sort()).toEqual(['certificateChainPem', 'extra']);
    const huge = await issuer.client.put(ISSUER_KEYS, { privateKeyPem: 'x'.repeat(20_000), certificateChainPem: 'x' });
    expect(huge.statusCode).toBe(400);
    expect(huge.json().details[0]).toMatchObject({ param: 'privateKeyPem' });
  });
});

describe('what is listed and recorded', () => {
  it('lists keys without private material', async () => {
    const response = await issuer.client.get(ISSUER_KEYS);
    expect(response.body).not.toMatch(/PRIVATE KEY|"d":/);
    const { rows } = await issuer.database.pool.query('SELECT count(*)::int AS n FROM issuer_keys');
    expect(response.json().data).toHaveLength(rows[0].n);
  });

  it('records rotations and replacements, successful or not', async () => {
    const before = await loadSigningKey(ctx());
    const rotated = (await issuer.client.post(`${ISSUER_KEYS}/rotate`)).json() as KeyItem;
    await issuer.client.put(ISSUER_KEYS, { privateKeyPem: 'not a key', certificateChainPem: 'nope' });

    const events = async (types: string) => (await issuer.client.get(`${EVENTS}?types=${types}&limit=1`)).json().data;
    const [rotateSuccess] = await events('ISSUER_KEY_ROTATE_SUCCESS');
    expect(rotateSuccess).toMatchObject({ category: 'IssuerKey', actor: 'env:ADMIN_API_KEY', data: { kid: rotated.kid, retiredKid: before.kid } });
    const [replaceSuccess] = await events('ISSUER_KEY_REPLACE_SUCCESS');
    expect(replaceSuccess).toMatchObject({ category: 'IssuerKey', data: { kid: expect.any(String), retiredKid: expect.any(String) } });
    const [replaceFail] = await events('ISSUER_KEY_REPLACE_FAIL');
    expect(replaceFail).toMatchObject({ category: 'IssuerKey', data: { status: 400 } });
    const [replaceStart] = await events('ISSUER_KEY_REPLACE_START');
    expect(replaceStart.requestId).toBe(replaceFail.requestId);
  });
});
