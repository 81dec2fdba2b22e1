import { X509Certificate, createHash, webcrypto } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { StatusList, getListFromStatusListJWT } from '@owf/token-status-list';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { decode as cbor2Decode, encode as cbor2Encode } from 'cbor2';
import { decodeJwt, decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IACAS, MDOC_CONFIGURATIONS, USERS, credentialRequest, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Cbor2Tag, MDL_CLAIMS, MDL_CONFIGURATION, handCheck } from './support/mdoc.js';
import { holderKey, proofJwt } from './support/wallet.js';

// draft-ietf-oauth-status-list through the real HTTP layer: credentials issued with a status
// reference, their status changed through the MATTR-shaped API, and the change read back by
// verifiers that share no code with the issuer.

let issuer: TestIssuer;
let second: TestIssuer;
let api: IssuerClient;
/** SD-JWT configurations: 1-bit lists (MATTR's default), 2-bit lists, and none. */
let oneBit: string;
let twoBits: string;
let withoutStatus: string;
let mdl: string;
let iacaPem: string;

const SECRET_CLAIM = 'Zanzibar-7f3c-never-in-a-list';

beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true });
  second = await startTestIssuer({ databaseUrl: issuer.databaseUrl, listen: true });
  api = issuer.client;
  const claimMappings = { name: { mapFrom: 'claims.name' }, motto: { mapFrom: 'claims.motto' } };
  oneBit = (await api.createConfiguration({ type: 'https://credentials.example.com/one-bit', claimMappings, includeStatus: true })).id;
  twoBits = (await api.createConfiguration({ type: 'https://credentials.example.com/two-bits', claimMappings, includeStatus: true, statusListBits: 2 })).id;
  withoutStatus = (await api.createConfiguration({ type: 'https://credentials.example.com/plain', claimMappings })).id;
  mdl = (await api.createMdocConfiguration({ ...MDL_CONFIGURATION, includeStatus: true, statusListBits: 2 })).id;
  iacaPem = (await api.activeIaca()).certificatePem;
});
afterAll(async () => {
  await second?.close();
  await issuer?.close();
});

interface Issued {
  credentialId: string;
  credential: string;
  userId: string;
  offerId: string;
}

/** Issues `batch` credentials of `configurationId` to `userId` (a new user when absent), as a wallet does. */
async function issue(configurationId: string, options: { userId?: string; batch?: number; claims?: Record<string, unknown> } = {}): Promise<Issued[]> {
  const userId = options.userId ?? (await api.createUser({ name: 'Ada' })).id;
  const session = await api.startSession({ credentials: [configurationId], userId, claims: options.claims ?? { name: 'Ada', motto: SECRET_CLAIM } });
  const nonce = await api.nonce();
  const proofs = await Promise.all(Array.from({ length: options.batch ?? 1 }, async () => proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce })));
  const response = await api.requestCredential(session.token, credentialRequest(configurationId, proofs));
  expect(response.statusCode, response.body).toBe(200);
  const credentials = (response.json().credentials as { credential: string }[]).map(({ credential }) => credential);
  // The back-end learns the ids from the credential-issued event, in the order of the response.
  const [event] = await issuer.tables.eventRows(`type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS' AND data->>'offerId' = $1`, [session.offer.id]);
  const ids = event!.data.credentialIds as string[];
  expect(ids).toHaveLength(credentials.length);
  return credentials.map((credential, index) => ({ credentialId: ids[index]!, credential, userId, offerId: session.offer.id }));
}

const statusPath = (profile: 'sd-jwt' | 'mobile', credentialId: string) => `/v2/credentials/${profile}/${credentialId}/status`;

async function setStatus(profile: 'sd-jwt' | 'mobile', credentialId: string, status: string, client = api) {
  const response = await client.post(statusPath(profile, credentialId), { status });
  expect(response.statusCode, response.body).toBe(201);
  expect(response.json()).toEqual({ status });
}

const sdJwtPayload = (credential: string) => decodeJwt(credential.split('~')[0]!) as { status?: { status_list: { idx: number; uri: string } } };

/** A verifier that trusts only the issuer's published key, checking status with its library's own fetcher. */
async function sdJwtVerdict(credential: string): Promise<'accepted' | string> {
  const jwtVcIssuer = await (await fetch(`${issuer.url}/.well-known/jwt-vc-issuer`)).json();
  const verifier = new SDJwtVcInstance({
    hasher: (data: string | ArrayBuffer) => new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest()),
    verifier: async (data: string, signature: string) => {
      const { kid } = decodeProtectedHeader(`${data.split('.')[0]}.e30.`);
      const jwk = jwtVcIssuer.jwks.keys.find((key: { kid: string }) => key.kid === kid);
      if (!jwk) return false;
      try {
        await jwtVerify(`${data}.${signature}`, await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']));
        return true;
      } catch {
        return false;
      }
    },
  });
  try {
    await verifier.verify(credential);
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
}

/** The list token at `uri`, fetched over HTTP as a verifier does, its signature checked with the x5c it carries. */
async function fetchJwtList(uri: string, from = issuer) {
  const response = await fetch(uri.replace(issuer.url, from.url), { headers: { accept: 'application/statuslist+jwt' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/statuslist\+jwt/);
  const jwt = await response.text();
  const header = decodeProtectedHeader(jwt);
  const { payload } = await jwtVerify(jwt, await importX509(`-----BEGIN CERTIFICATE-----\n${header.x5c![0]}\n-----END CERTIFICATE-----`, 'ES256'), { typ: 'statuslist+jwt' });
  return { jwt, header, payload: payload as { sub: string; iat: number; exp: number; ttl: number; status_list: { bits: number; lst: string; aggregation_uri: string } }, response };
}

/** The status at `idx` read by hand: inflate the zlib stream, take `bits` bits from the least significant end (§4.1). */
function statusByHand(lst: string | Uint8Array, bits: number, idx: number): number {
  const bytes = inflateSync(typeof lst === 'string' ? Buffer.from(lst, 'base64url') : lst);
  const perByte = 8 / bits;
  return (bytes[Math.floor(idx / perByte)]! >> ((idx % perByte) * bits)) & ((1 << bits) - 1);
}

/** The same list read from `from` until it shows `expected` at `idx` (another instance's change arrives by NOTIFY), or 5 s. */
async function eventuallyShows(uri: string, idx: number, expected: number, from = issuer) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { payload } = await fetchJwtList(uri, from);
    const status = statusByHand(payload.status_list.lst, payload.status_list.bits, idx);
    if (status === expected || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('SD-JWT VCs with a status list', () => {
  it('revocation end to end: valid, then invalid on the next fetch (on the other instance once the change is announced), and @sd-jwt/sd-jwt-vc rejects it', async () => {
    const [issued] = await issue(oneBit);
    const { status } = sdJwtPayload(issued!.credential);
    expect(status?.status_list).toEqual({ idx: expect.any(Number), uri: expect.stringMatching(new RegExp(`^${issuer.url}/v2/credentials/sd-jwt/status-lists/[0-9a-f-]{36}/token$`)) });
    const { idx, uri } = status!.status_list;

    const before = await fetchJwtList(uri);
    expect(before.payload).toMatchObject({ sub: uri, ttl: 86400, status_list: { bits: 1, aggregation_uri: `${issuer.url}/v2/credentials/sd-jwt/status-lists/distribution` } });
    expect(before.payload.exp - before.payload.iat).toBe(7 * 86400);
    expect(before.header).toMatchObject({ typ: 'statuslist+jwt', alg: 'ES256', kid: expect.any(String) });
    expect(getListFromStatusListJWT(before.jwt).getStatus(idx)).toBe(0);
    expect(await sdJwtVerdict(issued!.credential)).toBe('accepted');
    // The other instance has the token in its cache too, before the change.
    expect(await eventuallyShows(uri, idx, 0, second)).toBe(0);

    await setStatus('sd-jwt', issued!.credentialId, 'invalid');
    expect((await api.get(statusPath('sd-jwt', issued!.credentialId))).json()).toEqual({ status: 'invalid' });

    const after = await fetchJwtList(uri);
    expect(getListFromStatusListJWT(after.jwt).getStatus(idx)).toBe(1);
    expect(statusByHand(after.payload.status_list.lst, 1, idx)).toBe(1);
    expect(after.payload.iat).toBeGreaterThanOrEqual(before.payload.iat);
    expect(await eventuallyShows(uri, idx, 1, second)).toBe(1);
    expect(await sdJwtVerdict(issued!.credential)).toMatch(/status/i);

    // invalid is final (§7.1).
    const back = await api.post(statusPath('sd-jwt', issued!.credentialId), { status: 'valid' });
    expect(back.statusCode, back.body).toBe(409);
    expect(back.json()).toMatchObject({ code: 'Conflict', message: expect.stringMatching(/final/) });
    expect(await issuer.tables.eventRows(`type LIKE 'SD\\_JWT\\_CREDENTIAL\\_STATUS\\_SET%' AND data->'credentialIds' ? $1`, [issued!.credentialId])).toHaveLength(1);
  });

  it('suspended, then valid again, on a 2-bit list; refused on a 1-bit list', async () => {
    const [issued] = await issue(twoBits);
    const { idx, uri } = sdJwtPayload(issued!.credential).status!.status_list;
    await setStatus('sd-jwt', issued!.credentialId, 'suspended');
    const suspended = await fetchJwtList(uri);
    expect(suspended.payload.status_list.bits).toBe(2);
    expect(getListFromStatusListJWT(suspended.jwt).getStatus(idx)).toBe(2);
    expect(statusByHand(suspended.payload.status_list.lst, 2, idx)).toBe(2);
    expect(await sdJwtVerdict(issued!.credential)).not.toBe('accepted');

    await setStatus('sd-jwt', issued!.credentialId, 'valid', second.client);
    expect(await eventuallyShows(uri, idx, 0)).toBe(0);
    expect(await sdJwtVerdict(issued!.credential)).toBe('accepted');

    const [narrow] = await issue(oneBit);
    const refused = await api.post(statusPath('sd-jwt', narrow!.credentialId), { status: 'suspended' });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().message).toMatch(/2-bit|suspended/);
    expect((await api.get(statusPath('sd-jwt', narrow!.credentialId))).json()).toEqual({ status: 'valid' });
  });

  it('lists are cacheable: their ETag answers 304 until the list changes; Cache-Control within the ttl; open to any origin', async () => {
    const [issued] = await issue(oneBit);
    const { uri } = sdJwtPayload(issued!.credential).status!.status_list;
    const first = await fetch(uri, { headers: { origin: 'https://verifier.example.org' } });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    const maxAge = Number(/max-age=(\d+)/.exec(first.headers.get('cache-control')!)![1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(86400);
    expect((await fetch(uri, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(uri, { headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(304);
    // No Last-Modified: two tokens signed in the same second would share it.
    expect(first.headers.get('last-modified')).toBeNull();

    await setStatus('sd-jwt', issued!.credentialId, 'invalid');
    const changed = await fetch(uri, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('a retry of the credential request with the same keys does not re-issue a credential revoked or suspended since', async () => {
    const userId = (await api.createUser({ name: 'Ada' })).id;
    const session = await api.startSession({ credentials: [twoBits], userId, claims: { name: 'Ada', motto: SECRET_CLAIM } });
    const holder = await holderKey();
    const request = async () => api.requestCredential(session.token, credentialRequest(twoBits, [await proofJwt(holder, { aud: issuer.config.publicUrl, nonce: await api.nonce() })]));
    expect((await request()).statusCode).toBe(200);
    // A lost response is retried: the same key gets its credential again, while nothing was revoked.
    expect((await request()).statusCode).toBe(200);
    const records = (await api.get(`${USERS}/${userId}/credentials`)).json().data as { id: string }[];
    await setStatus('sd-jwt', records[0]!.id, 'suspended');
    const retried = await request();
    expect(retried.statusCode, retried.body).toBe(400);
    expect(retried.json().error).toBe('credential_request_denied');
  });

  it('is refused without includeStatus: no reference in the credential, status reads and changes answer 409', async () => {
    const [issued] = await issue(withoutStatus);
    expect(sdJwtPayload(issued!.credential).status).toBeUndefined();
    for (const response of [await api.get(statusPath('sd-jwt', issued!.credentialId)), await api.post(statusPath('sd-jwt', issued!.credentialId), { status: 'invalid' })]) {
      expect(response.statusCode, response.body).toBe(409);
      expect(response.json().message).toMatch(/includeStatus/);
    }
    const record = (await api.get(`/v2/credentials/sd-jwt/${issued!.credentialId}`)).json();
    expect(record).toMatchObject({ id: issued!.credentialId, status: null, statusList: null });
  });

  it('unknown credentials are 404 (also under the other profile), a role without the right is 403, bad values 400', async () => {
    const [issued] = await issue(oneBit);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await api.post(statusPath('sd-jwt', unknown), { status: 'invalid' })).statusCode).toBe(404);
    expect((await api.get(statusPath('sd-jwt', unknown))).statusCode).toBe(404);
    expect((await api.post(statusPath('mobile', issued!.credentialId), { status: 'invalid' })).statusCode).toBe(404);
    expect((await api.get(`/v2/credentials/mobile/${issued!.credentialId}`)).statusCode).toBe(404);

    const auditor = await api.createKey('auditor');
    const forbidden = await api.post(statusPath('sd-jwt', issued!.credentialId), { status: 'invalid' }, auditor.key);
    expect(forbidden.statusCode).toBe(403);
    const managed = await api.createKey('managed-issuer');
    await setStatus('sd-jwt', issued!.credentialId, 'invalid', api.as(managed.key));

    const bad = await api.post(statusPath('sd-jwt', issued!.credentialId), { status: 'revoked' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BadRequest', details: expect.any(Array) });
  });
});

describe('issued credentials', () => {
  it("a user's credentials are listed (newest first, paginated), read, and deleted; a deleted record's status stays as it was", async () => {
    const user = await api.createUser({ name: 'Grace' });
    const first = await issue(oneBit, { userId: user.id, batch: 2 });
    const later = await issue(withoutStatus, { userId: user.id });
    const page = await api.get(`${USERS}/${user.id}/credentials?limit=2`);
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json();
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).toMatchObject({ id: later[0]!.credentialId, profile: 'sd-jwt', format: 'dc+sd-jwt', status: null, userId: user.id, offerId: later[0]!.offerId });
    const rest = (await api.get(`${USERS}/${user.id}/credentials?limit=2&cursor=${encodeURIComponent(body.nextCursor)}`)).json();
    const all = [...body.data, ...rest.data];
    expect(new Set(all.map((record: { id: string }) => record.id))).toEqual(new Set([...first, ...later].map((c) => c.credentialId)));

    const record = all.find((r: { id: string }) => r.id === first[0]!.credentialId);
    const { idx, uri } = sdJwtPayload(first[0]!.credential).status!.status_list;
    expect(record).toMatchObject({
      type: 'https://credentials.example.com/one-bit',
      credentialConfigurationId: oneBit,
      holderKeyThumbprint: expect.any(String),
      issuedDate: expect.any(String),
      validFrom: expect.any(String),
      status: 'valid',
      statusList: { uri, index: idx },
    });
    expect(JSON.stringify(all)).not.toContain(SECRET_CLAIM);

    await setStatus('sd-jwt', first[0]!.credentialId, 'invalid');
    expect((await api.del(`/v2/credentials/sd-jwt/${first[0]!.credentialId}`)).statusCode).toBe(204);
    expect((await api.get(`/v2/credentials/sd-jwt/${first[0]!.credentialId}`)).statusCode).toBe(404);
    expect((await api.del(`/v2/credentials/sd-jwt/${first[0]!.credentialId}`)).statusCode).toBe(404);
    expect(getListFromStatusListJWT((await fetchJwtList(uri)).jwt).getStatus(idx)).toBe(1);
    expect((await api.get(`${USERS}/00000000-0000-4000-8000-000000000000/credentials`)).statusCode).toBe(404);
  });

  it('bulk: every credential of a user, or of an offer, in one call', async () => {
    const user = await api.createUser({ name: 'Linus' });
    const fromOffer = await issue(twoBits, { userId: user.id, batch: 3 });
    const other = await issue(oneBit, { userId: user.id });
    await issue(withoutStatus, { userId: user.id });

    const offer = await api.post(`/v1/openid/offers/pre-authorized/${fromOffer[0]!.offerId}/credentials/status`, { status: 'suspended' });
    expect(offer.statusCode, offer.body).toBe(200);
    expect(offer.json()).toEqual({ status: 'suspended', updated: 3, unchanged: 0, refused: 0, withoutStatus: 0 });

    const everything = await api.post(`${USERS}/${user.id}/credentials/status`, { status: 'invalid' });
    expect(everything.statusCode, everything.body).toBe(200);
    expect(everything.json()).toEqual({ status: 'invalid', updated: 4, unchanged: 0, refused: 0, withoutStatus: 1 });
    for (const { credential } of [...fromOffer, ...other]) {
      const { idx, uri } = sdJwtPayload(credential).status!.status_list;
      expect(getListFromStatusListJWT((await fetchJwtList(uri)).jwt).getStatus(idx)).toBe(1);
    }
    const again = (await api.post(`${USERS}/${user.id}/credentials/status`, { status: 'valid' })).json();
    expect(again).toEqual({ status: 'valid', updated: 0, unchanged: 0, refused: 4, withoutStatus: 1 });
    expect((await api.post(`${USERS}/00000000-0000-4000-8000-000000000000/credentials/status`, { status: 'invalid' })).statusCode).toBe(404);
  });
});

describe('mDocs with a status list (CWT)', () => {
  it('the MSO carries status.status_list; after a change the CWT shows it, decoded by plain CBOR and zlib and by @owf/token-status-list, signed by a document signer under the published IACA', async () => {
    const [issued] = await issue(mdl, { claims: MDL_CLAIMS });
    const { mso, documentSigner } = await handCheck(Buffer.from(issued!.credential, 'base64url'));
    const reference = (mso.get('status') as Map<string, Map<string, unknown>>).get('status_list')!;
    const idx = reference.get('idx') as number;
    const uri = reference.get('uri') as string;
    expect(uri).toMatch(new RegExp(`^${issuer.url}/v2/credentials/mobile/status-lists/[0-9a-f-]{36}/token$`));

    await setStatus('mobile', issued!.credentialId, 'suspended');
    expect((await fetch(uri, { headers: { accept: 'application/statuslist+jwt' } })).status).toBe(406);
    const response = await fetch(uri, { headers: { accept: 'application/statuslist+cwt' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/statuslist+cwt');
    const token = new Uint8Array(await response.arrayBuffer());

    // By hand: COSE_Sign1_Tagged (tag 18), typ in the protected header, the signer's certificate as x5chain.
    const tagged = cbor2Decode(token) as Cbor2Tag;
    expect(tagged.tag).toBe(18);
    const [protectedBytes, unprotected, payload, signature] = tagged.contents as [Uint8Array, Map<number, unknown>, Uint8Array, Uint8Array];
    const protectedHeader = cbor2Decode(protectedBytes) as Map<number, unknown>;
    expect(protectedHeader.get(1)).toBe(-7);
    expect(protectedHeader.get(16)).toBe('application/statuslist+cwt');
    const signer = new X509Certificate(unprotected.get(33) as Uint8Array);
    const iaca = new X509Certificate(iacaPem);
    expect(signer.checkIssued(iaca) && signer.verify(iaca.publicKey)).toBe(true);
    expect(signer.fingerprint256).toBe(documentSigner.fingerprint256);
    const key = await webcrypto.subtle.importKey('spki', signer.publicKey.export({ format: 'der', type: 'spki' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const toBeSigned = cbor2Encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
    expect(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, toBeSigned)).toBe(true);
    const claims = cbor2Decode(payload) as Map<number, unknown>;
    expect(claims.get(2)).toBe(uri);
    expect((claims.get(4) as number) - (claims.get(6) as number)).toBeGreaterThan(0);
    expect(claims.get(65534)).toBe(86400);
    const list = claims.get(65533) as { bits: number; lst: Uint8Array; aggregation_uri: string };
    expect(list.bits).toBe(2);
    expect(statusByHand(list.lst, 2, idx)).toBe(2);

    // An independent decoder of Status List CWTs.
    // An independent decoder of the list (its CWT parser, an alpha, fails inside its own header
    // handling in this process, an `instanceof` across module copies; the structure is checked above).
    expect(StatusList.decompressStatusListFromBytes(list.lst, 2).getStatus(idx)).toBe(2);

    const distribution = await (await fetch(`${issuer.url}/v2/credentials/mobile/status-lists/distribution`)).json();
    expect(distribution.status_lists).toContain(uri);
    expect(list.aggregation_uri).toBe(`${issuer.url}/v2/credentials/mobile/status-lists/distribution`);
    expect(iacaPem).toContain('BEGIN CERTIFICATE');
    expect((await api.get(`${MDOC_CONFIGURATIONS}/${mdl}`)).json()).toMatchObject({ includeStatus: true, statusListBits: 2 });
    expect((await api.get(IACAS)).statusCode).toBe(200);
  });
});

describe('aggregation and privacy', () => {
  it('the SD-JWT lists are listed at the aggregation endpoint the authorization server metadata advertises', async () => {
    const [issued] = await issue(oneBit);
    const metadata = await api.metadata('authorizationServer');
    expect(metadata.status_list_aggregation_endpoint).toBe(`${issuer.url}/v2/credentials/sd-jwt/status-lists/distribution`);
    const response = await fetch(metadata.status_list_aggregation_endpoint);
    expect(response.status).toBe(200);
    expect((await response.json()).status_lists).toContain(sdJwtPayload(issued!.credential).status!.status_list.uri);
  });

  it('no claim value is in a list, an entry or a record of an issued credential', async () => {
    const [issued] = await issue(oneBit);
    await setStatus('sd-jwt', issued!.credentialId, 'invalid');
    await fetchJwtList(sdJwtPayload(issued!.credential).status!.status_list.uri);
    for (const table of ['credential_issuances', 'status_lists', 'status_list_entries']) {
      const { rows } = await issuer.database.pool.query(`SELECT * FROM ${table}`);
      const dump = JSON.stringify(rows, (_key, value) => (value?.type === 'Buffer' ? Buffer.from(value.data).toString('latin1') : value));
      expect(dump, table).not.toContain(SECRET_CLAIM);
    }
  });
});
