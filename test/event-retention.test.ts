import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { sweepOnce } from '../src/retention/sweeper.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

describe('event retention', () => {
  it('the sweeper removes events older than EVENT_RETENTION_SECONDS, in batches, and keeps the rest', async () => {
    const pool = issuer.database.pool;
    await pool.query('DELETE FROM events');
    await pool.query(
      `INSERT INTO events (id, type, category, timestamp, data)
       SELECT gen_random_uuid(), 'OLD', 'Test', now() - interval '400 days', '{}' FROM generate_series(1, 2100)`,
    );
    await pool.query(`INSERT INTO events (id, type, category, timestamp, data) VALUES (gen_random_uuid(), 'RECENT', 'Test', now() - interval '300 days', '{}')`);

    expect(await sweepOnce(pool, 86_400, 0)).toMatchObject({ events: 0 });
    expect(await sweepOnce(pool, 86_400, 365 * 86_400)).toMatchObject({ events: 2100 });
    const { rows } = await pool.query('SELECT type FROM events');
    expect(rows).toEqual([{ type: 'RECENT' }]);
  });

  it('defaults to a year, and 0 keeps events for ever', () => {
    expect(loadConfig({}).retention.eventRetentionSeconds).toBe(365 * 86_400);
    expect(loadConfig({ EVENT_RETENTION_SECONDS: '0' }).retention.eventRetentionSeconds).toBe(0);
  });
});
