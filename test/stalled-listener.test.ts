import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS, USERS } from './support/client.js';
import { createTestDatabase, startTestIssuer, type TestIssuer } from './support/issuer.js';
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy.js';

// Each instance trusts its caches (API keys, configurations, the signing key) only while its LISTEN
// connection is known to work. A connection that stalls without closing delivers no notification
// and raises no error: the heartbeat notices within seconds, so a revoked key stops working.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: StallingProxy;
let behindProxy: TestIssuer;
let direct: TestIssuer;
beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startStallingProxy(database.url);
  behindProxy = await startTestIssuer({ databaseUrl: proxy.url });
  direct = await startTestIssuer({ databaseUrl: database.url });
});
afterAll(async () => {
  await direct?.close();
  await behindProxy?.close();
  await proxy?.close();
  await database?.drop();
});

describe('an instance whose LISTEN connection stalls', () => {
  it('stops accepting a key revoked elsewhere within seconds, and admin keys are never served from its cache', async () => {
    const issuerKey = await direct.client.createKey('issuer');
    const adminKey = await direct.client.createKey('admin');
    const use = async (key: string) => (await behindProxy.client.get(USERS, key)).statusCode;
    expect(await use(issuerKey.key)).toBe(200);
    expect(await use(adminKey.key)).toBe(200);

    proxy.stall('vci-issuer-invalidation');
    expect((await direct.client.del(`${API_KEYS}/${adminKey.id}`)).statusCode).toBe(204);
    expect((await direct.client.del(`${API_KEYS}/${issuerKey.id}`)).statusCode).toBe(204);
    const revokedAt = Date.now();
    // The admin key is refused at once: its authentication always reads the database.
    expect(await use(adminKey.key)).toBe(401);
    let accepted = 0;
    while ((await use(issuerKey.key)) === 200) {
      accepted++;
      expect(Date.now() - revokedAt, `still accepted after ${accepted} requests`).toBeLessThan(6000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await use(issuerKey.key)).toBe(401);
  });
});
