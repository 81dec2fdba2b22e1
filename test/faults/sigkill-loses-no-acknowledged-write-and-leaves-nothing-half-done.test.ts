import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretKeys } from '../../src/crypto/secrets.js';
import { storedSecret } from '../../src/crypto/stored-secrets.js';
import { PROCESS_SECRET, spawnIssuer, type IssuerProcess } from '../support/processes.js';
import { FlowClient, Journal, createConfiguration, runLoad, sha256, sleep, violatedInvariants, type Target } from '../support/load.js';
import { startOwnPostgres, type OwnPostgres } from '../support/databases.js';
import { holderKey } from '../support/wallet.js';

// Fault: the issuer process is killed with SIGKILL (no chance to clean up) while offers are created
// and wallets run full flows; a new process is started on the same database and port. Whatever the
// clients were told succeeded must be there, and the requests cut off half-way must have left
// nothing half-done (each state change is one statement or one transaction).

let postgres: OwnPostgres;
const started: IssuerProcess[] = [];
beforeAll(async () => {
  postgres = await startOwnPostgres();
});
afterAll(async () => {
  for (const issuer of started) await issuer.stop();
  await postgres?.destroy();
});

describe('the issuer is SIGKILLed under load and restarted on the same database', () => {
  it('keeps every acknowledged offer, access token and credential, and no request left a half-done change', async () => {
    const first = await spawnIssuer({ databaseUrl: postgres.url });
    started.push(first);
    const journal = new Journal();
    const before: Target = { name: 'first', process: first };
    const client = new FlowClient(journal, await createConfiguration(journal, before), await holderKey());
    // Tokens redeemed, not yet used: the wallet comes back for its credential after the restart.
    const parked: { offerId: string; token: string }[] = [];

    let killed = false;
    const load = runLoad(8, () => killed, async (worker) => {
      if (worker % 4 === 0) {
        await client.createOffer(before, { txCode: worker % 8 === 0 });
      } else if (worker % 4 === 1) {
        const offer = await client.createOffer(before);
        const redeemed = offer && (await client.redeem(before, offer));
        if (offer && redeemed?.token) parked.push({ offerId: offer.id, token: redeemed.token });
      } else {
        await client.fullFlow([before]);
      }
    });
    await sleep(2000);
    first.kill('SIGKILL');
    killed = true;
    await load;
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Requests cut off by the kill got no answer at all (never a 5xx).
    const cutOff = journal.outcomes.filter((o) => o.status === 0);
    expect(journal.outcomes.filter((o) => o.status >= 300), journal.summary()).toEqual([]);
    expect(cutOff.every((o) => o.failure === 'network'), journal.summary()).toBe(true);
    expect(journal.offers.length, journal.summary()).toBeGreaterThan(20);
    expect(journal.credentials.length, journal.summary()).toBeGreaterThan(5);
    expect(parked.length, journal.summary()).toBeGreaterThan(5);

    // Nothing half-done, checked in SQL before anything else touches the database.
    expect(await violatedInvariants((sql) => postgres.pool.query(sql))).toEqual({});

    // Every acknowledged write is there.
    const secrets = new SecretKeys(PROCESS_SECRET);
    const { rows: offers } = await postgres.pool.query('SELECT id FROM offers WHERE id = ANY ($1::uuid[])', [journal.offers.map((o) => o.id)]);
    expect(offers).toHaveLength(journal.offers.length);
    const { rows: tokens } = await postgres.pool.query<{ offer_id: string }>('SELECT offer_id FROM access_tokens WHERE token_hash = ANY ($1::bytea[])', [
      journal.tokens.map((t) => storedSecret.accessToken(secrets, t.token)),
    ]);
    expect(tokens.map((t) => t.offer_id).sort()).toEqual(journal.tokens.map((t) => t.offerId).sort());
    const { rows: issued } = await postgres.pool.query<{ credential_hash: string }>('SELECT credential_hash FROM credential_issuances WHERE credential_hash = ANY ($1::text[])', [
      journal.credentials.map((c) => sha256(c.credential)),
    ]);
    expect(issued).toHaveLength(journal.credentials.length);

    // A new process on the same database and port serves the same state.
    const second = await spawnIssuer({ databaseUrl: postgres.url, port: first.port });
    started.push(second);
    const after: Target = { name: 'second', process: second };
    // Offers acknowledged before the kill and never redeemed can be redeemed now.
    const unredeemed = journal.offers.filter((o) => !o.txCode && !journal.tokens.some((t) => t.offerId === o.id)).slice(0, 10);
    for (const offer of unredeemed) {
      const { status, body } = await client.redeem(after, offer);
      // A redemption cut off by the kill may have committed: then the code is spent, never reusable.
      expect([200, 400], JSON.stringify(body)).toContain(status);
      if (status === 400) expect(journal.uncertainRedemptions.map((o) => o.id)).toContain(offer.id);
    }
    // Access tokens acknowledged before the kill still buy their credential.
    for (const { offerId, token } of parked.slice(0, 10)) {
      const nonce = await client.nonce(after);
      const { status, body } = await client.credential(after, offerId, token, nonce!);
      expect(status, JSON.stringify(body)).toBe(200);
    }
    // And new work runs normally.
    for (let i = 0; i < 5; i++) expect(await client.fullFlow([after])).toBe(true);
    expect(await violatedInvariants((sql) => postgres.pool.query(sql))).toEqual({});
  });
});
