import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFERS, httpClient, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

describe('offers created at the same moment', () => {
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
