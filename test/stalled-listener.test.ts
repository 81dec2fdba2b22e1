import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestDatabase, startTestIssuer, type TestIssuer } from './support/issuer.js';
import { management } from './support/management.js';
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
    const issuerKey = await management(direct).createKey('issuer');
    const adminKey = await management(direct).createKey('admin');
    const use = (key: string) => behindProxy.app.inject({ url: '/v1/users', headers: bearer(key) }).then((response) => response.statusCode);
    expect(await use(issuerKey.key)).toBe(200);
    expect(await use(adminKey.key)).toBe(200);

    proxy.stall('vci-issuer-invalidation');
    expect((await direct.app.inject({ method: 'DELETE', url: `/v1/api-keys/${adminKey.id}`, headers: bearer(direct.adminKey) })).statusCode).toBe(204);
    expect((await direct.app.inject({ method: 'DELETE', url: `/v1/api-keys/${issuerKey.id}`, headers: bearer(direct.adminKey) })).statusCode).toBe(204);
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
