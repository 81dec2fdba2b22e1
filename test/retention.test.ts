import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_LOCK_ID, sweepOnce } from '../src/retention/sweeper.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const count = async (table: string) => (await issuer.database.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

describe('the sweeper keeps tables bounded', () => {
  it('removes expired offers, tokens and used nonces past retention, in batches, and keeps live ones', async () => {
    const pool = issuer.database.pool;
    const { id: configurationId } = await issuer.client.createConfiguration();
    const live = await issuer.client.createOffer({ credentials: [configurationId] });
    const old = await issuer.client.createOffer({ credentials: [configurationId] });
    await issuer.client.redeem(old);
    await pool.query("UPDATE offers SET expires_at = now() - interval '2 days' WHERE id = $1", [old.id]);
    await pool.query("UPDATE access_tokens SET expires_at = now() - interval '2 days' WHERE offer_id = $1", [old.id]);
    // 2,500 used nonces past expiry (three batches) and one still live.
    await pool.query("INSERT INTO used_nonces SELECT sha256(('n' || i)::bytea), now() - interval '1 minute' FROM generate_series(1, 2500) i");
    await pool.query("INSERT INTO used_nonces VALUES (sha256('live'::bytea), now() + interval '5 minutes')");

    const result = await sweepOnce(pool, 86_400);
    expect(result).toEqual({ usedNonces: 2500, usedDpopProofs: 0, accessTokens: 1, offers: 1, events: 0, webhookDeliveries: 0 });
    expect(await count('used_nonces')).toBe(1);
    const { rows } = await pool.query('SELECT id FROM offers');
    expect(rows.map((r) => r.id)).toContain(live.id);
    expect(rows.map((r) => r.id)).not.toContain(old.id);
  });

  it('keeps expired rows within the retention period, and only one instance sweeps at a time', async () => {
    const pool = issuer.database.pool;
    const { id: configurationId } = await issuer.client.createConfiguration();
    const recent = await issuer.client.createOffer({ credentials: [configurationId] });
    await pool.query("UPDATE offers SET expires_at = now() - interval '1 hour' WHERE id = $1", [recent.id]);
    expect(await sweepOnce(pool, 86_400)).toMatchObject({ offers: 0 });
    expect((await pool.query('SELECT 1 FROM offers WHERE id = $1', [recent.id])).rowCount).toBe(1);
    // While another instance holds the sweep lock, this one skips the round.
    const other = await pool.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [SWEEP_LOCK_ID]);
      expect(await sweepOnce(pool, 0)).toBeUndefined();
      await other.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_ID]);
    } finally {
      other.release();
    }
    expect(await sweepOnce(pool, 0)).toMatchObject({ offers: 1 });
  });
});
