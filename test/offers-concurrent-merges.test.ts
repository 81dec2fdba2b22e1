import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFERS, httpClient, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// Offers for existing users that persist claims write the user row. Under concurrent load over two
// instances every caller must get exactly its own outcome: 201 only for an offer that committed, an
// error only when nothing was written, never a deadlock answered as 500.
let first: TestIssuer;
let second: TestIssuer;
/** Each instance over real HTTP, as its admin. */
let overHttp: IssuerClient[];
beforeAll(async () => {
  first = await startTestIssuer({ listen: true });
  second = await startTestIssuer({ listen: true, databaseUrl: first.databaseUrl, publicUrl: first.url });
  overHttp = [first, second].map((instance) => httpClient(instance.url, { key: instance.adminKey, connections: 100 }));
});
afterAll(async () => {
  for (const client of overHttp ?? []) await client.close();
  await second?.close();
  await first?.close();
});

describe('concurrent offers that persist claims on shared users, over two instances', () => {
  it('answer each caller with its own outcome: no 500, and the offers written are exactly the 201s', async () => {
    const api = first.client;
    const configuration = await api.createConfiguration({ claimMappings: { name: { mapFrom: 'claims.name' } } });
    const users = await Promise.all(Array.from({ length: 8 }, (_, index) => api.createUser({ name: `user ${index}` })));

    const statuses: number[] = [];
    const created: string[] = [];
    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, async (_, index) => {
          const response = await overHttp[index % 2]!.post(OFFERS, {
            credentials: [configuration.id],
            userId: users[(index * 7 + round) % users.length]!.id,
            claims: { [`r${round}i${index}`]: index, name: 'persisted' },
            claimsToPersist: [`r${round}i${index}`, 'name'],
          });
          return { status: response.statusCode, body: response.json() as { id?: string } };
        }),
      );
      for (const { status, body } of responses) {
        statuses.push(status);
        if (status === 201) created.push(body.id!);
      }
    }

    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
    expect(created.length).toBeGreaterThan(statuses.length * 0.9);
    const pool = first.database.pool;
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM offers');
    expect(new Set(rows.map((row) => row.id))).toEqual(new Set(created));
    const { rows: events } = await pool.query<{ offer_id: string }>(
      `SELECT data->>'offerId' AS offer_id FROM events WHERE type = 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS'`,
    );
    expect(events.map((event) => event.offer_id).sort()).toEqual([...created].sort());
    // Every persisted claim of every committed offer is on its user.
    const { rows: stored } = await pool.query<{ claims: Record<string, unknown> }>('SELECT claims FROM users WHERE id = ANY ($1)', [users.map((u) => u.id)]);
    const persisted = stored.flatMap((user) => Object.keys(user.claims).filter((name) => /^r\di\d+$/.test(name)));
    expect(persisted).toHaveLength(created.length);
  });
});

describe('a saturated connection pool', () => {
  it('is a 503 that says the service is at capacity, not that the database is down', async () => {
    const issuer = await startTestIssuer({ env: { DATABASE_POOL_SIZE: '1' } });
    const api = issuer.client;
    const configuration = await api.createConfiguration();
    const blocker = new (await import('pg')).default.Client({ connectionString: issuer.databaseUrl });
    await blocker.connect();
    try {
      // The pool's only connection waits on this lock; the next request waits for a connection.
      await blocker.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const stuck = api.post(OFFERS, { credentials: [configuration.id], claims: {} });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const waiting = await api.post(OFFERS, { credentials: [configuration.id], claims: {} });
      expect(waiting.statusCode).toBe(503);
      expect(waiting.headers['retry-after']).toBeDefined();
      expect(waiting.json()).toEqual({ code: 'ServiceUnavailable', message: expect.stringMatching(/capacity/) });
      await blocker.query('ROLLBACK');
      expect((await stuck).statusCode).toBe(201);
    } finally {
      await blocker.end();
      await issuer.close();
    }
  });
});
