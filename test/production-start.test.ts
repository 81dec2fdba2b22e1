import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startIssuer } from '../src/server.js';
import { API_KEYS } from './support/client.js';
import { TEST_SECRET, createTestDatabase, startTestIssuer } from './support/issuer.js';

describe('a production start without ADMIN_API_KEY', () => {
  it('is refused when no active admin key exists (only revoked admin keys and keys of other roles), and accepted once one does', async () => {
    const database = await createTestDatabase();
    const seeded = await startTestIssuer({ databaseUrl: database.url });
    try {
      const api = seeded.client;
      const revoked = await api.createKey('admin');
      expect((await api.del(`${API_KEYS}/${revoked.id}`)).statusCode).toBe(204);
      await api.createKey('issuer');
      await api.createKey('auditor');
      const config = loadConfig({ NODE_ENV: 'production', SECRET: TEST_SECRET, DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', PUBLIC_URL: 'https://issuer.example.com' });

      const refused = await startIssuer(config, false, { listen: false }).then(
        async (issuer) => (await issuer.close(), undefined),
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as Error).message).toMatch(/ADMIN_API_KEY is required .* no active admin API key/);

      await api.createKey('admin');
      const started = await startIssuer(config, false, { listen: false });
      await started.close();
    } finally {
      await seeded.close();
      await database.drop();
    }
  });
});
