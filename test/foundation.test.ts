import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { generateOpenApi } from '../src/openapi.js';
import { WALLET_PATHS } from '../src/protocol.js';
import { API_KEYS, EVENTS } from './support/client.js';
import { bearer, startTestIssuer, type TestIssuer } from './support/issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

describe('configuration', () => {
  it('names the variable and the problem in one line', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/^Invalid configuration: PORT .+$/);
    expect(() => loadConfig({ PUBLIC_URL: 'https://x.example/' })).toThrow(/PUBLIC_URL must not end with "\/"/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET is required/);
    expect(() => loadConfig({ ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY must be at least 32/);
  });

  it('has defaults that run a local issuer', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, publicUrl: 'http://localhost:3000', databaseUrl: undefined, migrateOnStart: true });
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
  });

  it('npm start with PORT=abc exits non-zero naming PORT', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, PORT: 'abc' }, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toContainEqual(expect.stringMatching(/^Invalid configuration: PORT /));
  });
});

describe('health', () => {
  it('is live and ready on a migrated database', async () => {
    expect((await issuer.app.inject('/health/live')).json()).toEqual({ status: 'ok' });
    const ready = await issuer.app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('is not ready when migrations are missing', async () => {
    await issuer.database.pool.query('DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations) RETURNING *');
    try {
      const ready = await issuer.app.inject('/health/ready');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ code: 'ServiceUnavailable' });
    } finally {
      const { readMigrations } = await import('../src/db/migrate.js');
      const last = (await readMigrations()).at(-1)!;
      await issuer.database.pool.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [last.version, last.name]);
    }
  });
});

describe('HTTP conventions', () => {
  it('answers unknown routes with 404 in the error shape', async () => {
    const response = await issuer.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'NotFound', message: 'Route GET /v1/nothing-here not found' });
  });

  it('honours and echoes X-Request-Id, and makes one up otherwise', async () => {
    // Not a health check: those are logged at debug.
    const given = await issuer.app.inject({ url: '/.well-known/oauth-authorization-server', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await issuer.app.inject({ url: '/health/live', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(issuer.logs.some((line) => line.includes('"reqId":"abc-123"') && line.includes('request completed'))).toBe(true);
  });

  it('rejects bodies over 500 KB with 413', async () => {
    const response = await issuer.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { ...bearer(issuer.adminKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(600 * 1024), role: 'admin' }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PayloadTooLarge' });
  });

  it('rejects a wrong content type with 415 and malformed JSON with 400', async () => {
    const form = await issuer.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { ...bearer(issuer.adminKey), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=a&role=admin',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json()).toEqual({ code: 'UnsupportedMediaType', message: 'Unsupported content type: send the body as application/json (Content-Type: application/json)' });
    const text = await issuer.app.inject({ method: 'POST', url: '/v1/api-keys', headers: { ...bearer(issuer.adminKey), 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.statusCode).toBe(415);
    expect(text.json().message).toMatch(/send the body as application\/json/);
    // The wallet endpoints say it in the OAuth shape, each naming its own type.
    const token = await issuer.app.inject({ method: 'POST', url: WALLET_PATHS.token, headers: { 'content-type': 'text/plain' }, payload: 'grant_type=x' });
    expect(token.statusCode).toBe(415);
    expect(token.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/send the body as application\/x-www-form-urlencoded/) });
    const tokenAsJson = await issuer.app.inject({ method: 'POST', url: WALLET_PATHS.token, headers: { 'content-type': 'application/json' }, payload: '{"grant_type":"x"}' });
    expect(tokenAsJson.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/must be application\/x-www-form-urlencoded/) });
    const broken = await issuer.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { ...bearer(issuer.adminKey), 'content-type': 'application/json' },
      payload: '{"name": "a",',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toEqual({ code: 'BadRequest', message: expect.stringMatching(/not valid JSON/) });
  });

  it('names each invalid field in details', async () => {
    const response = await issuer.app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(issuer.adminKey), payload: { name: '', role: 'root', extra: 1 } });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.code).toBe('BadRequest');
    expect(body.details.map((d: { param: string }) => d.param).sort()).toEqual(['extra', 'name', 'role']);
    expect(body.details.every((d: { location: string }) => d.location === 'body')).toBe(true);
  });

  it('sets security headers on every response', async () => {
    const response = await issuer.app.inject('/v1/nothing');
    expect(response.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cache-control': 'no-store' });
  });
});

describe('API keys', () => {
  it('shows a key once, lists without secrets, revokes at once', async () => {
    const created = await issuer.client.createKey('issuer', 'back-end');
    expect(created.key).toMatch(/^vci_[\w-]{43}$/);
    const list = await issuer.client.get(API_KEYS);
    expect(list.body).not.toContain(created.key);
    expect(list.json().data).toContainEqual({ id: created.id, name: 'back-end', role: 'issuer', createdAt: expect.any(String) });

    const { rows } = await issuer.database.pool.query('SELECT key_hash FROM api_keys WHERE id = $1', [created.id]);
    expect(rows[0].key_hash.toString('utf8')).not.toContain(created.key);
    expect(rows[0].key_hash).toHaveLength(32);

    const newKey = await issuer.client.createKey('admin', 'second admin');
    expect((await issuer.client.get(API_KEYS, newKey.key)).statusCode).toBe(200);
    const revoke = await issuer.client.del(`${API_KEYS}/${newKey.id}`);
    expect(revoke.statusCode).toBe(204);
    expect((await issuer.client.get(API_KEYS, newKey.key)).statusCode).toBe(401);
    const again = await issuer.client.del(`${API_KEYS}/${newKey.id}`);
    expect(again.statusCode).toBe(404);
  });

  it('paginates with limit and an opaque cursor', async () => {
    for (let i = 0; i < 3; i++) await issuer.client.createKey('auditor', `page ${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${API_KEYS}?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await issuer.client.get(url)).json();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((k: { id: string }) => k.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const bad = await issuer.client.get(`${API_KEYS}?cursor=zzz`);
    expect(bad.statusCode).toBe(400);
    const tooMany = await issuer.client.get(`${API_KEYS}?limit=1001`);
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().details[0]).toMatchObject({ location: 'query', param: 'limit' });
  });

  it('records API key events, readable by auditors', async () => {
    const auditor = await issuer.client.createKey('auditor', 'events reader');
    const response = await issuer.client.get(`${EVENTS}?types=API_KEY_CREATE_SUCCESS&limit=1`, auditor.key);
    expect(response.statusCode).toBe(200);
    const [event] = response.json().data;
    expect(event).toMatchObject({ type: 'API_KEY_CREATE_SUCCESS', category: 'ApiKey', actor: 'env:ADMIN_API_KEY', data: { apiKeyId: auditor.id, role: 'auditor' } });
    expect(JSON.stringify(response.json())).not.toContain(auditor.key);
  });
});

describe('OpenAPI', () => {
  it('serves the document and the committed copy is current (npm run openapi)', async () => {
    const served = await issuer.app.inject('/openapi.json');
    expect(served.json().openapi).toBe('3.1.0');
    const committed = await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
    expect(committed, 'openapi/openapi.json is stale: run npm run openapi').toBe(await generateOpenApi());
    expect((await issuer.app.inject('/docs/')).statusCode).toBe(200);
  });
});
