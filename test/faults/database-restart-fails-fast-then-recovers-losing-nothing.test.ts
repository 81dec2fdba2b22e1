import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedSecret } from '../../src/crypto/stored-secrets.js';
import { SecretKeys } from '../../src/crypto/secrets.js';
import { PROCESS_SECRET, spawnIssuer, type IssuerProcess } from '../support/processes.js';
import { FlowClient, Journal, type AckedOffer, createConfiguration, expectUnavailable, now, runLoad, sha256, sleep, violatedInvariants, type Outcome, type Target } from '../support/load.js';
import { startOwnPostgres, type OwnPostgres } from '../support/databases.js';
import { holderKey } from '../support/wallet.js';

// Fault: PostgreSQL stops and starts again (same data, same port) while offers are created and wallets
// run full flows. The issuer runs as a real process (`node --import tsx src/main.ts`) and is never
// restarted. The server is this test's own embedded PostgreSQL, never the machine's.

const FAIL_FAST_MS = 4000; // the pool gives up connecting after 3 s; an unreachable server is refused at once
const RECOVERY_MS = 5000;

let postgres: OwnPostgres;
let issuer: IssuerProcess;
beforeAll(async () => {
  postgres = await startOwnPostgres();
  issuer = await spawnIssuer({ databaseUrl: postgres.url });
});
afterAll(async () => {
  await issuer?.stop();
  await postgres?.destroy();
});

const isSuccess = (o: Outcome) => o.status >= 200 && o.status < 300;

describe('PostgreSQL restarts under load', () => {
  it('fails fast with 503 + Retry-After (never a 500 or a hang), is ready again within 5 s without a service restart, and loses no acknowledged write', async () => {
    const journal = new Journal();
    const target: Target = { name: 'issuer', process: issuer };
    const client = new FlowClient(journal, await createConfiguration(journal, target), await holderKey());

    // Wallets holding offers made before the outage; one whose redemption fails retries it later.
    const waiting: AckedOffer[] = [];
    for (let i = 0; i < 60; i++) waiting.push((await client.createOffer(target))!);

    const times = { stopping: 0, stopped: 0, starting: 0, restarted: 0 };
    let done = false;
    let operations = 0;
    const load = runLoad(6, () => done || operations >= 3000, async (worker) => {
      operations++;
      if (worker % 3 === 0) {
        // An issuer back-end creating offers (management API).
        await client.createOffer(target, { txCode: operations % 3 === 0 });
      } else if (worker % 3 === 1) {
        // A wallet running a whole flow.
        await client.fullFlow([target]);
      } else {
        // A wallet redeeming an offer it already holds (from the outage on), retrying when it gets no answer.
        const offer = times.stopping ? waiting.shift() : undefined;
        if (!offer) return sleep(50);
        const { status } = await client.redeem(target, offer);
        if (status === 503 || status === 0) waiting.push(offer);
      }
      // During the outage every request fails at once: do not spin.
      if (times.stopping && !times.restarted) await sleep(20);
    });
    const readiness: Outcome[] = [];
    const probe = runLoad(1, () => done, async () => {
      readiness.push(await journal.record('ready', target, issuer.client.get('/health/ready', null)));
      await sleep(100);
    });

    await sleep(1500);
    times.stopping = now();
    await postgres.stop();
    times.stopped = now();
    await sleep(2000);
    times.starting = now();
    await postgres.start();
    times.restarted = now();
    // Keep the load on until 1.5 s after the first database-backed success (or 1 s past the deadline).
    const recovered = () => journal.outcomes.find((o) => o.startedAt >= times.restarted && o.step !== 'nonce' && isSuccess(o));
    while (!recovered() && now() < times.restarted + RECOVERY_MS + 1000) await sleep(50);
    await sleep(1500);
    done = true;
    await Promise.all([load, probe]);

    const context = () => `${journal.summary()}\n${issuer.output().slice(-3000)}`;
    // The service itself never went down.
    expect(issuer.exit(), context()).toBeUndefined();

    // Never a 500, never a hang, never a dropped connection: success or a documented 503.
    for (const outcome of journal.outcomes) {
      if (isSuccess(outcome)) continue;
      expectUnavailable(outcome);
    }
    // Load did run before, during and after the outage.
    expect(journal.between(0, times.stopping).filter(isSuccess).length, context()).toBeGreaterThan(10);
    const duringOutage = journal.between(times.stopped, times.starting).filter((o) => o.step !== 'nonce');
    expect(duringOutage.length, context()).toBeGreaterThan(10);
    for (const outcome of duringOutage) {
      expectUnavailable(outcome);
      expect(outcome.endedAt - outcome.startedAt, `${outcome.step} took too long`).toBeLessThan(FAIL_FAST_MS);
    }
    // The nonce endpoint needs no database: it kept working.
    expect(journal.between(times.stopped, times.starting).filter((o) => o.step === 'nonce').every(isSuccess)).toBe(true);
    // Every request that was in flight when the database went away was answered quickly.
    for (const outcome of journal.outcomes) expect(outcome.endedAt - outcome.startedAt, `${outcome.step} ${outcome.status}`).toBeLessThan(FAIL_FAST_MS + 1000);

    // Readiness: 503 while the database is away, 200 once it is back.
    const readyDuring = readiness.filter((o) => o.startedAt >= times.stopped && o.startedAt < times.starting);
    expect(readyDuring.length).toBeGreaterThan(5);
    for (const outcome of readyDuring) expectUnavailable(outcome);
    const readyAgain = readiness.find((o) => o.startedAt >= times.restarted && o.status === 200);
    expect(readyAgain, context()).toBeDefined();
    expect(readyAgain!.endedAt - times.restarted).toBeLessThan(RECOVERY_MS);

    // Within 5 s of the database returning, database-backed requests succeed again, and from then on all do.
    const firstSuccess = journal.outcomes
      .filter((o) => o.startedAt >= times.restarted && o.step !== 'nonce' && isSuccess(o))
      .sort((a, b) => a.endedAt - b.endedAt)[0];
    expect(firstSuccess, context()).toBeDefined();
    expect(firstSuccess!.endedAt - times.restarted).toBeLessThan(RECOVERY_MS);
    const settled = journal.between(Math.min(firstSuccess!.endedAt, times.restarted + RECOVERY_MS), Infinity);
    expect(settled.length).toBeGreaterThan(10);
    expect(settled.filter((o) => !isSuccess(o)), journal.summary(settled)).toEqual([]);

    // A wallet whose token request got a 503 retries: it gets a token, or invalid_grant if the first
    // attempt did commit; either way each code yields at most one access token (checked below).
    expect(journal.between(times.stopped, times.starting).filter((o) => o.step === 'token').length, context()).toBeGreaterThan(0);
    for (const offer of journal.uncertainRedemptions) {
      const retried = await client.redeem(target, offer);
      if (retried.status !== 200) expect(retried.body).toMatchObject({ error: 'invalid_grant' });
    }

    // Durability: every offer answered 201 is stored, every token answered 200 is stored, every credential answered 200 is recorded.
    const secrets = new SecretKeys(PROCESS_SECRET);
    const { rows: offers } = await postgres.pool.query<{ id: string }>('SELECT id FROM offers WHERE id = ANY ($1::uuid[])', [journal.offers.map((o) => o.id)]);
    expect(offers.length).toBe(journal.offers.length);
    expect(journal.offers.length).toBeGreaterThan(20);
    const { rows: tokens } = await postgres.pool.query<{ offer_id: string }>('SELECT offer_id FROM access_tokens WHERE token_hash = ANY ($1::bytea[])', [
      journal.tokens.map((t) => storedSecret.accessToken(secrets, t.token)),
    ]);
    expect(tokens.length).toBe(journal.tokens.length);
    const { rows: issued } = await postgres.pool.query('SELECT id FROM credential_issuances WHERE credential_hash = ANY ($1::text[])', [
      journal.credentials.map((c) => sha256(c.credential)),
    ]);
    expect(issued.length).toBe(journal.credentials.length);
    expect(journal.credentials.length).toBeGreaterThan(5);

    // No code was redeemed twice: one 200 per code at most, one access token per offer at most.
    const perOffer = new Map<string, number>();
    for (const { offerId } of journal.tokens) perOffer.set(offerId, (perOffer.get(offerId) ?? 0) + 1);
    expect([...perOffer.values()].every((count) => count === 1)).toBe(true);
    const { rows: twice } = await postgres.pool.query('SELECT offer_id FROM access_tokens GROUP BY offer_id HAVING count(*) > 1');
    expect(twice).toEqual([]);
    expect(await violatedInvariants((sql) => postgres.pool.query(sql))).toEqual({});
  });
});
