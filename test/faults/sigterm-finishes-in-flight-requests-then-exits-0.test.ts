import { request } from 'node:http';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnIssuer, type IssuerProcess } from '../support/processes.js';
import { FlowClient, Journal, createConfiguration, sleep, violatedInvariants, type Outcome, type Target } from '../support/load.js';
import { startOwnPostgres, type OwnPostgres } from '../support/databases.js';
import { holderKey } from '../support/wallet.js';

// Fault: SIGTERM while requests are in flight. To be sure they really are in flight inside the
// issuer (not merely sent), the test holds a lock on the events table that every write needs, and
// waits until PostgreSQL shows them waiting for it; then it sends SIGTERM, checks that the process
// stops accepting but keeps going, and lets the lock go. Offers and issuances made at the same
// moment share statements (src/db/batch.ts), so the test waits until statements of each kind wait
// and their numbers stop growing.

const IN_FLIGHT = { offers: 15, tokens: 10, credentials: 10 };

let postgres: OwnPostgres;
let issuer: IssuerProcess;
beforeAll(async () => {
  postgres = await startOwnPostgres();
  // One connection per in-flight request, so none of them waits for the pool instead of the lock.
  issuer = await spawnIssuer({ databaseUrl: postgres.url, env: { DATABASE_POOL_SIZE: '50' } });
});
afterAll(async () => {
  await issuer?.stop();
  await postgres?.destroy();
});

/** A fresh TCP connection to the port: refused once the server has stopped listening. */
function connect(port: number): Promise<'refused' | number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health/live', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : (error.code as never)));
    req.end();
  });
}

/**
 * Statements of the issuer waiting for a lock, by what they write, told by text from their first few
 * hundred characters (pg_stat_activity keeps the first 1,024 bytes of a statement).
 */
async function waitingOnLock(pool: pg.Pool): Promise<{ offers: number; redemptions: number; issuances: number }> {
  const { rows } = await pool.query<{ offers: number; redemptions: number; issuances: number }>(
    `SELECT count(*) FILTER (WHERE query LIKE '%AS t(id, code_hash, tx_code_hash%')::int AS offers,
            count(*) FILTER (WHERE query LIKE '%UPDATE offers SET%')::int AS redemptions,
            count(*) FILTER (WHERE query LIKE '%UPDATE access_tokens t SET issued_configuration_ids%')::int AS issuances
     FROM pg_stat_activity WHERE application_name = 'vci-issuer' AND wait_event_type = 'Lock'`,
  );
  return rows[0]!;
}

describe('SIGTERM under load', () => {
  it('stops accepting, lets every in-flight request complete successfully, then exits 0', async () => {
    const journal = new Journal();
    const target: Target = { name: 'issuer', process: issuer };
    const client = new FlowClient(journal, await createConfiguration(journal, target), await holderKey());
    // Wallets half-way through their flow, ready for their next step.
    const toRedeem = await Promise.all(Array.from({ length: IN_FLIGHT.tokens }, () => client.createOffer(target)));
    const withToken = [];
    for (let i = 0; i < IN_FLIGHT.credentials; i++) {
      const offer = (await client.createOffer(target))!;
      withToken.push({ offer, token: (await client.redeem(target, offer)).token!, nonce: (await client.nonce(target))! });
    }
    const acknowledgedBefore = journal.outcomes.length;

    const lock = await postgres.pool.connect();
    let requests: Promise<Outcome>[] = [];
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE events IN EXCLUSIVE MODE');
      requests = [
        ...Array.from({ length: IN_FLIGHT.offers }, (_, i) =>
          client.createOffer(target, { txCode: i % 2 === 0 }).then(() => journal.outcomes.at(-1)!),
        ),
        ...toRedeem.map((offer) => client.redeem(target, offer!)),
        ...withToken.map(({ offer, token, nonce }) => client.credential(target, offer.id, token, nonce)),
      ];
      let waiting = await waitingOnLock(postgres.pool);
      for (let waited = 0, stableFor = 0; Object.values(waiting).includes(0) || stableFor < 500; waited += 50) {
        if (waited > 20_000) throw new Error(`only ${JSON.stringify(waiting)} statements reached the database`);
        await sleep(50);
        const now = await waitingOnLock(postgres.pool);
        stableFor = JSON.stringify(now) === JSON.stringify(waiting) ? stableFor + 50 : 0;
        waiting = now;
      }

      issuer.kill('SIGTERM');
      // It stops accepting new connections at once ...
      for (let waited = 0; (await connect(issuer.port)) !== 'refused'; waited += 50) {
        if (waited > 5000) throw new Error('still accepting connections 5 s after SIGTERM');
        await sleep(50);
      }
      // ... but does not exit while requests are in flight.
      await sleep(1000);
      expect(issuer.exit(), issuer.output()).toBeUndefined();
      expect(await waitingOnLock(postgres.pool)).toEqual(waiting);
      await lock.query('COMMIT');
    } finally {
      lock.release();
    }

    const outcomes = await Promise.all(requests);
    const exit = await issuer.exited;
    expect(exit, issuer.output()).toEqual({ code: 0, signal: null });
    // Every in-flight request completed with success.
    expect(outcomes.map((o) => `${o.step} ${o.status}`).sort()).toEqual(
      [
        ...Array(IN_FLIGHT.offers).fill('offer 201'),
        ...Array(IN_FLIGHT.tokens).fill('token 200'),
        ...Array(IN_FLIGHT.credentials).fill('credential 200'),
      ].sort(),
    );
    expect(journal.outcomes.slice(0, acknowledgedBefore).every((o) => o.status >= 200 && o.status < 300)).toBe(true);
    // And what they acknowledged is stored.
    const { rows } = await postgres.pool.query('SELECT id FROM offers WHERE id = ANY ($1::uuid[])', [journal.offers.map((o) => o.id)]);
    expect(rows).toHaveLength(journal.offers.length);
    const { rows: issued } = await postgres.pool.query('SELECT count(*)::int AS n FROM credential_issuances');
    expect(issued[0].n).toBe(IN_FLIGHT.credentials);
    expect(await violatedInvariants((sql) => postgres.pool.query(sql))).toEqual({});
  });
});
