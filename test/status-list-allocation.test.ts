import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRequest } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { runLoad } from './support/load.js';
import { holderKey, proofJwt } from './support/wallet.js';

// Status list entries are handed out by PostgreSQL: under concurrent batch issuance through two
// instances, no index is given twice, indices are drawn at random, and full lists roll over.

const SIZE = 4096;
const BATCH = 20;
const CREDENTIALS = 10_000;
const env = { STATUS_LIST_SIZE: String(SIZE), BATCH_SIZE: String(BATCH), DATABASE_POOL_SIZE: '8' };

let first: TestIssuer;
let second: TestIssuer;
let configurationId: string;

beforeAll(async () => {
  first = await startTestIssuer({ env });
  second = await startTestIssuer({ env, databaseUrl: first.databaseUrl });
  configurationId = (await first.client.createConfiguration({ includeStatus: true })).id;
});
afterAll(async () => {
  await second?.close();
  await first?.close();
});

describe('status list allocation', () => {
  it(`${CREDENTIALS} credentials in batches of ${BATCH} over two instances: ${CREDENTIALS} distinct indices, not in order, in lists that roll over`, async () => {
    const holders = await Promise.all(Array.from({ length: BATCH }, () => holderKey()));
    const requests = CREDENTIALS / BATCH;
    let started = 0;
    const failures: string[] = [];
    await runLoad(
      8,
      () => started >= requests,
      async (worker) => {
        started += 1;
        const client = (worker % 2 === 0 ? first : second).client;
        const session = await client.startSession({ credentials: [configurationId], claims: { name: 'Ada' } });
        const nonce = await client.nonce();
        // Each key binds one credential of a batch; across batches the same keys may come back.
        const proofs = await Promise.all(holders.map((holder) => proofJwt(holder, { aud: first.config.publicUrl, nonce })));
        const response = await client.requestCredential(session.token, credentialRequest(configurationId, proofs));
        if (response.statusCode !== 200) failures.push(response.body);
      },
    );
    expect(failures).toEqual([]);

    const { rows } = await first.database.pool.query<{ list: string; idx: number }>(
      'SELECT status_list_id AS list, status_index AS idx FROM credential_issuances WHERE configuration_id = $1 ORDER BY seq',
      [configurationId],
    );
    expect(rows).toHaveLength(CREDENTIALS);
    expect(new Set(rows.map((row) => `${row.list}/${row.idx}`)).size).toBe(CREDENTIALS);
    for (const row of rows) expect(row.idx >= 0 && row.idx < SIZE).toBe(true);

    const lists = await first.database.pool.query<{ id: string; allocated: number; entries: string }>(
      'SELECT l.id, l.allocated, (SELECT count(*) FROM status_list_entries e WHERE e.list_id = l.id) AS entries FROM status_lists l ORDER BY seq',
    );
    // A list takes entries until three quarters of it are used (the rest stay free as decoys).
    expect(lists.rows.length).toBeGreaterThanOrEqual(Math.ceil(CREDENTIALS / ((SIZE * 3) / 4)));
    for (const [index, list] of lists.rows.entries()) {
      expect(list.allocated).toBeLessThanOrEqual((SIZE * 3) / 4);
      expect(Number(list.entries)).toBe(list.allocated);
      // Every list but the newest was filled before the next one was made: no burst made several at once.
      if (index < lists.rows.length - 1) expect(list.allocated).toBeGreaterThan((SIZE * 3) / 4 - BATCH);
    }

    // In issuance order, an index is as often below its predecessor as above it.
    const byList = new Map<string, typeof rows>();
    for (const row of rows) {
      if (!byList.has(row.list)) byList.set(row.list, []);
      byList.get(row.list)!.push(row);
    }
    let rising = 0;
    let pairs = 0;
    for (const entries of byList.values()) {
      for (let i = 1; i < entries.length; i += 1) {
        pairs += 1;
        if (entries[i]!.idx > entries[i - 1]!.idx) rising += 1;
      }
    }
    expect(rising / pairs).toBeGreaterThan(0.4);
    expect(rising / pairs).toBeLessThan(0.6);
  }, 300_000);
});
