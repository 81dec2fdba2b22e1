import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFERS, credentialRequest, httpClient, type CreatedOffer, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt } from './support/wallet.js';

// Requests that reach the database at the same moment share one statement and one commit (src/db/batch.ts).
// Each must still get exactly its own outcome, as if it had run alone.

let issuer: TestIssuer;
let api: IssuerClient;
let http: IssuerClient;
beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true });
  api = issuer.client;
  // Connections opened beforehand, so that requests sent together arrive together, as under load.
  http = httpClient(issuer.url, { key: issuer.adminKey, connections: 40 });
  await Promise.all(Array.from({ length: 40 }, () => http.get('/health/live', null)));
});
afterAll(async () => {
  await http.close();
  await issuer.close();
});

const wrongCode = (offer: CreatedOffer) => (String(offer.transactionCode).startsWith('9') ? '100000' : '999999');
const statementsThatWrote = async (table: string, ids: string[]) => {
  const { rows } = await issuer.database.pool.query<{ statements: number }>(`SELECT count(DISTINCT xmin::text)::int AS statements FROM ${table} WHERE id = ANY ($1)`, [ids]);
  return rows[0]!.statements;
};

describe('offers created at the same moment', () => {
  const createOverHttp = (body: Record<string, unknown>) => http.post(OFFERS, body);

  it('share statements, and each is still complete: user, offer, both events; persisted claims of one user all merge', async () => {
    const configuration = await api.createConfiguration({ claimMappings: { name: { mapFrom: 'claims.name' } } });
    const user = await api.createUser({ name: 'Ada' });
    const bodies = Array.from({ length: 40 }, (_, index) =>
      index % 4 === 0
        ? { credentials: [configuration.id], userId: user.id, claims: { [`persisted${index}`]: String(index) }, claimsToPersist: [`persisted${index}`] }
        : { credentials: [configuration.id], claims: { name: `person ${index}` } },
    );
    const responses = await Promise.all(bodies.map(createOverHttp));
    expect(responses.map((response) => response.statusCode)).toEqual(bodies.map(() => 201));
    const offers = responses.map((response) => response.json()) as { id: string; userId: string }[];

    const { rows } = await issuer.database.pool.query<{ statements: number; offers: number }>(
      'SELECT count(DISTINCT xmin::text)::int AS statements, count(*)::int AS offers FROM offers WHERE id = ANY ($1)',
      [offers.map((offer) => offer.id)],
    );
    expect(rows[0]!.offers).toBe(40);
    expect(rows[0]!.statements).toBeLessThan(40);

    const { rows: users } = await issuer.database.pool.query<{ claims: Record<string, string> }>('SELECT claims FROM users WHERE id = $1', [user.id]);
    expect(users[0]!.claims).toEqual({ name: 'Ada', ...Object.fromEntries(bodies.flatMap((body, index) => (index % 4 === 0 ? [[`persisted${index}`, String(index)]] : []))) });
    const newUsers = offers.filter((_, index) => index % 4 !== 0).map((offer) => offer.userId);
    expect(new Set(newUsers).size).toBe(30);
    expect((await issuer.database.pool.query('SELECT 1 FROM users WHERE id = ANY ($1)', [newUsers])).rowCount).toBe(30);

    for (const offer of offers) {
      const events = await issuer.tables.eventRows(`type LIKE 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_%' AND data->>'offerId' = $1`, [offer.id]);
      expect(events.map((event) => event.type)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS']);
    }
    const started = await issuer.tables.eventRows(`type = 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_START'`);
    const succeeded = await issuer.tables.eventRows(`type = 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS'`);
    expect(new Set(started.map((event) => event.request_id))).toEqual(new Set(succeeded.map((event) => event.request_id)));
  });

  it('one that fails in the database fails alone; the others are written', async () => {
    const configuration = await api.createConfiguration();
    const marker = `poison-${randomUUID()}`;
    const pool = issuer.database.pool;
    await pool.query(`CREATE OR REPLACE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned offer'; END $$`);
    await pool.query(`CREATE TRIGGER poisoned BEFORE INSERT ON offers FOR EACH ROW WHEN (NEW.claims ? '${marker}') EXECUTE FUNCTION reject_poison()`);
    try {
      const before = await issuer.tables.counts();
      const bodies = Array.from({ length: 12 }, (_, index) => ({ credentials: [configuration.id], claims: index === 5 ? { [marker]: 'x' } : { name: String(index) } }));
      const responses = await Promise.all(bodies.map(createOverHttp));
      expect(responses.map((response) => response.statusCode)).toEqual(bodies.map((_, index) => (index === 5 ? 500 : 201)));
      const after = await issuer.tables.counts();
      expect(after.offers - before.offers).toBe(11);
      expect(after.users - before.users).toBe(11);
    } finally {
      await pool.query('DROP TRIGGER poisoned ON offers');
    }
  });
});

// Redemptions do not share statements: joined to its inputs, the redemption's generic plan scanned
// offers on PostgreSQL 15 in every formulation tried (test/generic-plans.test.ts, BENCHMARKS.md). They are here for
// the issuances that follow, and as the race they run against each other.
describe('redemptions at the same moment', () => {
  it('each gets its own outcome: token, wrong code counted once, replay refused, unknown code', async () => {
    const { id: configurationId } = await api.createConfiguration();
    const offers = await Promise.all(Array.from({ length: 24 }, () => api.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} })));
    // 0-15 right code, 16-19 wrong code, 20-23 sent twice with the right code; and two unknown codes.
    const requests = [
      ...offers.slice(0, 16).map((offer) => ({ offer, txCode: String(offer.transactionCode) })),
      ...offers.slice(16, 20).map((offer) => ({ offer, txCode: wrongCode(offer) })),
      ...offers.slice(20).flatMap((offer) => [0, 1].map(() => ({ offer, txCode: String(offer.transactionCode) }))),
      ...[0, 1].map(() => ({ offer: { ...offers[0]!, code: `unknown-${Math.random()}` }, txCode: '123456' })),
    ];
    const responses = await Promise.all(requests.map(({ offer, txCode }) => http.requestToken({ 'pre-authorized_code': offer.code, tx_code: txCode })));
    const outcome = (index: number) => responses[index]!.statusCode === 200 ? 'token' : (responses[index]!.json() as { error: string; error_description: string }).error_description;

    for (let index = 0; index < 16; index++) expect(outcome(index)).toBe('token');
    for (let index = 16; index < 20; index++) expect(outcome(index)).toBe('Wrong transaction code; 2 attempts left before the offer is locked');
    for (let index = 20; index < 28; index += 2) {
      expect([outcome(index), outcome(index + 1)].sort()).toEqual(['The pre-authorized code has already been used', 'token']);
    }
    expect([outcome(28), outcome(29)]).toEqual(['Unknown pre-authorized code', 'Unknown pre-authorized code']);

    const tokens = responses.filter((response) => response.statusCode === 200).map((response) => response.json().access_token as string);
    expect(new Set(tokens).size).toBe(20);

    const { rows } = await issuer.database.pool.query<{ id: string; status: string; failed_attempts: number; tokens: number }>(
      `SELECT o.id, o.status, o.failed_attempts, (SELECT count(*) FROM access_tokens t WHERE t.offer_id = o.id AND t.revoked_at IS NULL)::int AS tokens
       FROM offers o WHERE o.id = ANY ($1)`,
      [offers.map((offer) => offer.id)],
    );
    const state = new Map(rows.map((row) => [row.id, row]));
    offers.forEach((offer, index) => {
      // A replay that knew the transaction code revokes the first redemption's token (README, Guarantees).
      const expected =
        index < 16 ? { status: 'redeemed', failed_attempts: 0, tokens: 1 } : index < 20 ? { status: 'pending', failed_attempts: 1, tokens: 0 } : { status: 'redeemed', failed_attempts: 0, tokens: 0 };
      expect(state.get(offer.id), `offer ${index}`).toMatchObject(expected);
    });

    // Every request that reached an offer recorded its own START and outcome, under its own request id.
    for (const [index, offer] of offers.entries()) {
      const events = await issuer.tables.eventRows(`type LIKE 'OPENID_TOKEN_CREATE_%' AND data->>'offerId' = $1`, [offer.id]);
      expect(events.map((event) => event.type), `offer ${index}`).toEqual([index >= 16 && index < 20 ? 'OPENID_TOKEN_CREATE_FAIL' : 'OPENID_TOKEN_CREATE_SUCCESS']);
    }
  });
});

describe('issuances at the same moment', () => {
  it('share statements; each gets its own outcome: issued, a nonce used twice refused once, one token twice issued once', async () => {
    const { id: configurationId } = await api.createConfiguration({ includeStatus: true });
    const sessions = await Promise.all(Array.from({ length: 20 }, () => api.startSession({ credentials: [configurationId], claims: { name: 'Ada' } })));
    const keys = await Promise.all(Array.from({ length: 22 }, () => holderKey()));
    const nonces = await Promise.all(sessions.map(() => api.nonce()));
    // Sessions 0-17 with their own nonce; 18 and 19 with the same nonce; session 0's token a second time, with another key.
    nonces[19] = nonces[18]!;
    const proof = (index: number, nonce: string) => proofJwt(keys[index]!, { aud: issuer.config.publicUrl, nonce });
    const requests = [
      ...(await Promise.all(sessions.map(async (session, index) => ({ token: session.token, jwt: await proof(index, nonces[index]!) })))),
      { token: sessions[0]!.token, jwt: await proof(20, await api.nonce()) },
    ];
    const responses = await Promise.all(requests.map(({ token, jwt }) => http.requestCredential(token, credentialRequest(configurationId, [jwt]))));
    const outcome = (index: number) => (responses[index]!.statusCode === 200 ? 'issued' : (responses[index]!.json() as { error: string }).error);

    for (let index = 1; index < 18; index++) expect(outcome(index), `session ${index}`).toBe('issued');
    expect([outcome(18), outcome(19)].sort()).toEqual(['invalid_nonce', 'issued']);
    expect([outcome(0), outcome(20)].sort()).toEqual(['credential_request_denied', 'issued']);

    const { rows } = await issuer.database.pool.query<{ id: string; offer_id: string }>('SELECT id, offer_id FROM credential_issuances WHERE configuration_id = $1', [configurationId]);
    expect(rows.length).toBe(19);
    expect(new Set(rows.map((row) => row.offer_id)).size).toBe(19);
    expect(await statementsThatWrote('credential_issuances', rows.map((row) => row.id))).toBeLessThan(19);
    // Their status list entries were allocated together too, each credential with an entry of its own.
    const { rows: entries } = await issuer.database.pool.query<{ entries: number; statements: number }>(
      `SELECT count(DISTINCT (e.list_id, e.idx))::int AS entries, count(DISTINCT e.xmin::text)::int AS statements
       FROM credential_issuances c JOIN status_list_entries e ON e.list_id = c.status_list_id AND e.idx = c.status_index WHERE c.configuration_id = $1`,
      [configurationId],
    );
    expect(entries[0]!.entries).toBe(19);
    expect(entries[0]!.statements).toBeLessThan(19);
    const events = await issuer.tables.eventRows(`type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS' AND data->>'credentialConfigurationId' = $1`, [configurationId]);
    expect(events.map((event) => (event.data.credentialIds as string[])[0]).sort()).toEqual(rows.map((row) => row.id).sort());
    const { rows: used } = await issuer.database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM used_nonces');
    // One nonce per issued credential: a refused request consumes none.
    expect(used[0]!.count).toBe(19);
  });
});
