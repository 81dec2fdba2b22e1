import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAccessTokens, recordIssuances, type Issuance } from '../src/credentials/store.js';
import { redeemPreAuthorizedCode } from '../src/oauth/store.js';
import { findLiveOfferByReference } from '../src/offers/store.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// The hot path's statements are prepared (named): after five runs PostgreSQL may keep one generic
// plan per connection, made with whatever statistics the tables had then. A fresh database, with
// small and never-analysed tables, is where a bad generic plan is made. On such a database the
// redemption's plan once walked offers_status_seq through every pending offer, filtering on
// code_hash, and flows slowed down as offers piled up (BENCHMARKS.md, 2026-12-01).

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
  // A few offers, as a new deployment has: enough rows that the planner has something to weigh.
  await issuer.client.createConfiguration().then(({ id }) => Promise.all(Array.from({ length: 20 }, () => issuer.client.createOffer({ credentials: [id], claims: { name: 'Ada' } }))));
});
afterAll(() => issuer?.close());

/** The SQL text and parameter count a store function sends, captured without running it. */
async function statementOf(call: (pool: pg.Pool) => Promise<unknown>): Promise<{ text: string; parameters: number }> {
  let captured: { text: string; values: unknown[] } | undefined;
  const pool = {
    query: async (query: { text: string; values: unknown[] }) => {
      captured = query;
      return { rows: [] };
    },
  };
  await call(pool as unknown as pg.Pool).catch(() => undefined);
  return { text: captured!.text, parameters: captured!.values.length };
}

async function genericPlan(statement: { text: string; parameters: number }): Promise<string> {
  const client = await issuer.database.pool.connect();
  try {
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE probe AS ${statement.text}`);
    const nulls = Array.from({ length: statement.parameters }, () => 'NULL').join(', ');
    const { rows } = await client.query(`EXPLAIN EXECUTE probe(${nulls})`);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.query('DEALLOCATE ALL').catch(() => undefined);
    await client.query('RESET plan_cache_mode').catch(() => undefined);
    client.release();
  }
}

const hash = Buffer.alloc(32);

describe('generic plans of the hot look-ups, on a small fresh database', () => {
  it('redeeming a code finds its offer by the unique code hash, never by walking pending offers', async () => {
    const statement = await statementOf((pool) =>
      redeemPreAuthorizedCode(pool, {
        codeHash: hash,
        txCodeHash: hash,
        maxAttempts: 3,
        token: { id: '00000000-0000-4000-8000-000000000000', hash, secretKeyId: 'k', expiresInSeconds: 60, dpopJkt: null },
        event: { kind: { type: 'T', category: 'C' }, audit: { requestId: 'r', actor: null } },
      }),
    );
    const plan = await genericPlan(statement);
    expect(plan).toMatch(/Index Scan using offers_code_hash_key on offers/);
    expect(plan).not.toMatch(/offers_status_seq|Seq Scan on offers/);
  });

  it('an offer by reference is found by its reference hash', async () => {
    const plan = await genericPlan(await statementOf((pool) => findLiveOfferByReference(pool, hash)));
    expect(plan).toMatch(/offers_reference_hash/);
    expect(plan).not.toMatch(/offers_status_seq|Seq Scan on offers/);
  });

  it('an access token is found by its hash, and its offer by id', async () => {
    const plan = await genericPlan(await statementOf((pool) => findAccessTokens(pool, [hash])));
    expect(plan).toMatch(/access_tokens_token_hash_key/);
    expect(plan).toMatch(/offers_pkey/);
  });

  it('recording issuances finds their access tokens by primary key, first time and again', async () => {
    const issuance = (again: boolean): Issuance => ({
      accessTokenId: '00000000-0000-4000-8000-000000000000',
      offerId: '00000000-0000-4000-8000-000000000000',
      userId: '00000000-0000-4000-8000-000000000000',
      configurationId: '00000000-0000-4000-8000-000000000000',
      format: 'dc+sd-jwt',
      type: 't',
      nonces: [],
      credentials: [],
      notificationId: '00000000-0000-4000-8000-000000000000',
      again,
      event: { kind: { type: 'T', category: 'C' }, audit: { requestId: 'r', actor: null } },
    });
    for (const again of [false, true]) {
      const plan = await genericPlan(await statementOf((pool) => recordIssuances(pool, [issuance(again)])));
      expect(plan).toMatch(/Index Cond: \(id = ANY/);
      expect(plan).not.toMatch(/Seq Scan on access_tokens/);
    }
  });
});
