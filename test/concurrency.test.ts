import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS, CONFIGURATIONS, OFFERS, USERS, credentialRequest, httpClient, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { MDL_CLAIMS, MDL_CONFIGURATION } from './support/mdoc.js';
import { holderKey, proofJwt } from './support/wallet.js';

// Two app instances on one PostgreSQL, each with a pool of 5, receiving real concurrent HTTP
// requests: the single-use and attempt-limit guarantees must hold across them.
let first: TestIssuer;
let second: TestIssuer;
/** Each instance over real HTTP, as its admin. */
let overHttp: Map<TestIssuer, IssuerClient>;
let configurationId: string;
beforeAll(async () => {
  first = await startTestIssuer({ listen: true });
  second = await startTestIssuer({ listen: true, databaseUrl: first.databaseUrl, publicUrl: first.url });
  overHttp = new Map([first, second].map((instance) => [instance, httpClient(instance.url, { key: instance.adminKey })]));
  configurationId = (await first.client.createConfiguration()).id;
});
afterAll(async () => {
  for (const client of overHttp?.values() ?? []) await client.close();
  await second?.close();
  await first?.close();
});

const http = (instance: TestIssuer) => overHttp.get(instance)!;

async function fireTokenRequests(fields: Record<string, string>, count: number) {
  const responses = await Promise.all(Array.from({ length: count }, (_, index) => http(index % 2 ? second : first).requestToken(fields)));
  return responses.map((response) => ({ status: response.statusCode, body: response.json() }));
}

describe('concurrent redemption across two instances', () => {
  for (let round = 1; round <= 5; round++) {
    it(`round ${round}: 50 concurrent redemptions of one code give exactly one access token`, async () => {
      const offer = await first.client.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
      const responses = await fireTokenRequests({ 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) }, 50);
      const ok = responses.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      expect(responses.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.body.error === 'invalid_grant')).toBe(true);
      const { rows } = await first.database.pool.query('SELECT count(*)::int AS tokens FROM access_tokens WHERE offer_id = $1', [offer.id]);
      expect(rows[0].tokens).toBe(1);
    });
  }

  for (let round = 1; round <= 5; round++) {
    it(`round ${round}: 50 concurrent wrong transaction codes lock the offer without exceeding the limit`, async () => {
      const offer = await first.client.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
      const wrong = String(offer.transactionCode).startsWith('9') ? '100000' : '999999';
      const responses = await fireTokenRequests({ 'pre-authorized_code': offer.code, tx_code: wrong }, 50);
      expect(responses.every((r) => r.status === 400 && r.body.error === 'invalid_grant')).toBe(true);
      const { rows } = await first.database.pool.query('SELECT status, failed_attempts FROM offers WHERE id = $1', [offer.id]);
      expect(rows[0]).toEqual({ status: 'locked', failed_attempts: 3 });
      const tokens = await first.database.pool.query('SELECT count(*)::int AS n FROM access_tokens WHERE offer_id = $1', [offer.id]);
      expect(tokens.rows[0].n).toBe(0);
      // The right code no longer works either.
      const right = await fireTokenRequests({ 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) }, 2);
      expect(right.map((r) => r.status)).toEqual([400, 400]);
    });
  }
});

describe('mDoc offers across two instances', () => {
  it('50 concurrent redemptions give one access token; 20 concurrent credential requests with a token one mDoc, under the one document signer both instances issued between them', async () => {
    const iaca = await first.client.activeIaca();
    const mdl = (await first.client.createMdocConfiguration(MDL_CONFIGURATION)).id;
    const offer = await first.client.createOffer({ credentials: [mdl], claims: MDL_CLAIMS, transactionCodeConfiguration: {} });
    const redemptions = await fireTokenRequests({ 'pre-authorized_code': offer.code, tx_code: String(offer.transactionCode) }, 50);
    const redeemed = redemptions.filter((r) => r.status === 200);
    expect(redeemed).toHaveLength(1);
    expect(redemptions.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.body.error === 'invalid_grant')).toBe(true);

    // A replay that knows the transaction code revokes the first redemption's token (see
    // replayed-codes.test.ts), so the credential requests use an offer redeemed once. No document
    // signer exists yet: the first mDoc makes one, on whichever instance gets there first.
    const { offer: issued, token } = await first.client.startSession({ credentials: [mdl], claims: MDL_CLAIMS });
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const nonce = await http(index % 2 ? second : first).nonce();
        return credentialRequest(mdl, [await proofJwt(await holderKey(), { aud: first.url, nonce })]);
      }),
    );
    const responses = await Promise.all(bodies.map((body, index) => http(index % 2 ? second : first).requestCredential(token, body)));
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode !== 200).every((r) => r.statusCode === 400 && r.json().error === 'credential_request_denied')).toBe(true);
    const pool = first.database.pool;
    expect((await pool.query('SELECT count(*)::int AS n FROM credential_issuances WHERE offer_id = $1', [issued.id])).rows[0].n).toBe(1);
    expect((await pool.query('SELECT count(*)::int AS n FROM document_signers WHERE iaca_id = $1', [iaca.id])).rows[0].n).toBe(1);
  });
});

describe('caches stay consistent across instances (LISTEN/NOTIFY invalidation)', () => {
  async function eventually(check: () => Promise<boolean>, withinMs = 2000) {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return false;
  }

  it('an API key revoked on one instance stops working on the other', async () => {
    const created = await http(first).createKey('issuer', 'cached');
    // Used on the second instance, so it is cached there.
    expect((await http(second).get(USERS, created.key)).statusCode).toBe(200);
    expect((await http(second).get(USERS, created.key)).statusCode).toBe(200);
    expect((await http(first).del(`${API_KEYS}/${created.id}`)).statusCode).toBe(204);
    expect((await http(first).get(USERS, created.key)).statusCode).toBe(401);
    expect(await eventually(async () => (await http(second).get(USERS, created.key)).statusCode === 401)).toBe(true);
  });

  it('the issuer metadata of every instance follows configurations created, changed and deleted on another', async () => {
    const metadataOf = async (instance: TestIssuer) => (await http(instance).metadata('credentialIssuer')).credential_configurations_supported as Record<string, { vct: string }>;
    await metadataOf(second); // cached on the second instance now
    const { id } = await first.client.createConfiguration({ type: 'https://credentials.example.com/metadata-v1' });
    expect(await eventually(async () => (await metadataOf(second))[id]?.vct === 'https://credentials.example.com/metadata-v1')).toBe(true);
    const put = await http(first).put(`${CONFIGURATIONS}/${id}`, { type: 'https://credentials.example.com/metadata-v2' });
    expect(put.statusCode).toBe(200);
    expect(await eventually(async () => (await metadataOf(second))[id]?.vct === 'https://credentials.example.com/metadata-v2')).toBe(true);
    expect((await http(first).del(`${CONFIGURATIONS}/${id}`)).statusCode).toBe(204);
    expect(await eventually(async () => !(id in (await metadataOf(second))))).toBe(true);
  });

  it('a configuration changed on one instance is used by offers created on the other', async () => {
    const { id } = await first.client.createConfiguration();
    const offerOn = (instance: TestIssuer, claims: Record<string, unknown>) => http(instance).post(OFFERS, { credentials: [id], claims });
    expect((await offerOn(second, { name: 'Ada' })).statusCode).toBe(201);
    const put = await http(first).put(`${CONFIGURATIONS}/${id}`, {
      type: 'https://credentials.example.com/test',
      claimMappings: { name: { mapFrom: 'claims.name', required: true }, email: { mapFrom: 'claims.email', required: true } },
    });
    expect(put.statusCode).toBe(200);
    // The new required claim is enforced by the second instance too.
    expect(await eventually(async () => (await offerOn(second, { name: 'Ada' })).statusCode === 400)).toBe(true);
    expect((await offerOn(second, { name: 'Ada', email: 'ada@example.com' })).statusCode).toBe(201);
  });
});
