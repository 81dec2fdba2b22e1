import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnIssuer, type IssuerProcess } from '../support/processes.js';
import { FlowClient, Journal, createConfiguration, now, phase, runLoad, violatedInvariants, type AckedOffer, type Outcome, type Target } from '../support/load.js';
import { startOwnPostgres, type OwnPostgres } from '../support/databases.js';
import { holderKey } from '../support/wallet.js';

// Fault: two issuer processes on one database share the load (every wallet flow hops between them);
// one is SIGKILLed midway while codes are being raced and transaction codes guessed on both. The
// survivor keeps serving, and single use and the attempt limit hold across the two and the kill.

const MAX_ATTEMPTS = 3;

let postgres: OwnPostgres;
let a: IssuerProcess;
let b: IssuerProcess;
beforeAll(async () => {
  postgres = await startOwnPostgres();
  [a, b] = await Promise.all([spawnIssuer({ databaseUrl: postgres.url }), spawnIssuer({ databaseUrl: postgres.url })]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await postgres?.destroy();
});

const wrongCode = (offer: AckedOffer) => (offer.txCode!.startsWith('9') ? '100000' : '999999');

describe('two instances, one killed under load', () => {
  it('the survivor keeps serving; each code is redeemed at most once and no offer takes more than 3 wrong transaction codes', async () => {
    const journal = new Journal();
    const A: Target = { name: 'A', process: a };
    const B: Target = { name: 'B', process: b };
    const client = new FlowClient(journal, await createConfiguration(journal, A), await holderKey());
    const raced: AckedOffer[] = [];
    const guessed: AckedOffer[] = [];

    let killedAt = 0;
    let done = false;
    const load = runLoad(6, () => done, async (worker, iteration) => {
      const targets = worker % 2 ? [A, B] : [B, A];
      if (worker < 2) {
        // Wallet flows hopping between the instances.
        await client.fullFlow(targets);
      } else if (worker < 4) {
        // One code redeemed by 10 wallets at once, half of them on each instance.
        const offer = await client.createOffer(targets[0]!, { txCode: true });
        if (!offer) return client.createOffer(targets[1]!);
        raced.push(offer);
        await Promise.all(Array.from({ length: 10 }, (_, i) => client.redeem(i % 2 ? A : B, offer)));
      } else {
        // Wrong transaction codes guessed 8 at a time on both instances.
        const offer = await client.createOffer(targets[iteration % 2]!, { txCode: true });
        if (!offer) return;
        guessed.push(offer);
        await Promise.all(Array.from({ length: 8 }, (_, i) => client.redeem(i % 2 ? A : B, offer, wrongCode(offer))));
      }
    });
    const ok = (o: Outcome) => o.status >= 200 && o.status < 300;
    await phase(() => raced.length > 5 && guessed.length > 5 && journal.credentials.length > 3, { minMs: 1500, maxMs: 20_000 });
    killedAt = now();
    b.kill('SIGKILL');
    await phase(() => journal.outcomes.filter((o) => o.instance === 'A' && o.startedAt > killedAt && ok(o)).length > 20, { minMs: 2000, maxMs: 20_000 });
    done = true;
    await load;
    expect(await b.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(a.exit()).toBeUndefined();

    const context = journal.summary();
    const expectedRejection = (o: Outcome) => o.step === 'token' && o.status === 400 && (o.body as { error?: string }).error === 'invalid_grant';
    // No instance ever answered with a server error; B's requests after the kill simply found nobody.
    expect(journal.outcomes.filter((o) => o.status >= 500), context).toEqual([]);
    expect(journal.outcomes.filter((o) => o.status === 0 && o.instance === 'A'), context).toEqual([]);
    expect(journal.outcomes.filter((o) => o.status !== 0 && o.instance === 'B' && o.startedAt > killedAt + 100), context).toEqual([]);
    // The survivor kept serving: after the kill, everything sent to A succeeded or was a proper invalid_grant.
    const survivorAfter = journal.outcomes.filter((o) => o.instance === 'A' && o.startedAt > killedAt);
    expect(survivorAfter.filter(ok).length, context).toBeGreaterThan(20);
    expect(survivorAfter.filter((o) => !ok(o) && !expectedRejection(o)), context).toEqual([]);
    expect(journal.credentials.length, context).toBeGreaterThan(3);

    // Single use: each raced code gave at most one token, and exactly one when any 200 was seen.
    expect(raced.length, context).toBeGreaterThan(5);
    const tokensPerOffer = new Map<string, number>();
    for (const { offerId } of journal.tokens) tokensPerOffer.set(offerId, (tokensPerOffer.get(offerId) ?? 0) + 1);
    expect([...tokensPerOffer.values()].filter((n) => n > 1)).toEqual([]);
    const { rows: rows } = await postgres.pool.query<{ id: string; status: string; tokens: number }>(
      `SELECT o.id, o.status, (SELECT count(*)::int FROM access_tokens t WHERE t.offer_id = o.id) AS tokens FROM offers o WHERE o.id = ANY ($1::uuid[])`,
      [raced.map((o) => o.id)],
    );
    expect(rows).toHaveLength(raced.length);
    for (const row of rows) {
      expect(row.tokens).toBeLessThanOrEqual(1);
      if (tokensPerOffer.has(row.id)) expect(row).toMatchObject({ status: 'redeemed', tokens: 1 });
    }
    // A code whose race ended with the kill is settled: the survivor redeems it now only if nobody did.
    for (const offer of raced.filter((o) => !tokensPerOffer.has(o.id))) {
      const again = await client.redeem(A, offer);
      const stored = rows.find((row) => row.id === offer.id)!;
      expect(again.status, JSON.stringify(again.body)).toBe(stored.tokens ? 400 : 200);
    }

    // Attempt limit: 8 concurrent wrong guesses per offer, over both instances: the offer ends locked
    // with exactly 3 failed attempts (or fewer when the kill ate some), never more, and never a token.
    expect(guessed.length, context).toBeGreaterThan(5);
    const { rows: locked } = await postgres.pool.query<{ id: string; status: string; failed_attempts: number; tokens: number }>(
      `SELECT o.id, o.status, o.failed_attempts, (SELECT count(*)::int FROM access_tokens t WHERE t.offer_id = o.id) AS tokens FROM offers o WHERE o.id = ANY ($1::uuid[])`,
      [guessed.map((o) => o.id)],
    );
    for (const row of locked) {
      expect(row.failed_attempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
      expect(row.tokens).toBe(0);
      expect(row.status).toBe(row.failed_attempts === MAX_ATTEMPTS ? 'locked' : 'pending');
    }
    expect(locked.filter((row) => row.status === 'locked').length).toBeGreaterThan(guessed.length / 2);
    // Whatever was left, the survivor finishes: wrong codes lock it at exactly 3, then even the right code fails.
    for (const offer of guessed) {
      for (let i = 0; i < MAX_ATTEMPTS; i++) await client.redeem(A, offer, wrongCode(offer));
      const right = await client.redeem(A, offer);
      expect(right.status).toBe(400);
    }
    const { rows: final } = await postgres.pool.query('SELECT DISTINCT status, failed_attempts FROM offers WHERE id = ANY ($1::uuid[])', [guessed.map((o) => o.id)]);
    expect(final).toEqual([{ status: 'locked', failed_attempts: MAX_ATTEMPTS }]);

    expect(await violatedInvariants((sql) => postgres.pool.query(sql))).toEqual({});
  });
});
