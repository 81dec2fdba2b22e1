import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, startTestIssuer, type TestIssuer } from './support/issuer.js';

// /.well-known/jwt-vc-issuer is public and unauthenticated: it is served from a copy rebuilt only
// when a key changes (announced to every instance), never with certificate work per request.
let first: TestIssuer;
let second: TestIssuer;
beforeAll(async () => {
  first = await startTestIssuer();
  second = await startTestIssuer({ databaseUrl: first.databaseUrl });
});
afterAll(async () => {
  await second.close();
  await first.close();
});

const kids = async (issuer: TestIssuer) =>
  ((await issuer.app.inject({ url: '/.well-known/jwt-vc-issuer' })).json() as { jwks: { keys: { kid: string }[] } }).jwks.keys.map((key) => key.kid);

describe('the SD-JWT VC issuer metadata', () => {
  it('is served from a cached copy: a row changed behind the service’s back does not show', async () => {
    const pool = first.database.pool;
    const before = (await first.app.inject({ url: '/.well-known/jwt-vc-issuer' })).json();
    const { rows } = await pool.query<{ x: string }>(`SELECT public_jwk->>'x' AS x FROM issuer_keys WHERE status = 'active'`);
    await pool.query(`UPDATE issuer_keys SET public_jwk = public_jwk || '{"x":"changed"}'::jsonb WHERE status = 'active'`);
    try {
      expect((await first.app.inject({ url: '/.well-known/jwt-vc-issuer' })).json()).toEqual(before);
    } finally {
      await pool.query(`UPDATE issuer_keys SET public_jwk = public_jwk || jsonb_build_object('x', $1::text) WHERE status = 'active'`, [rows[0]!.x]);
    }
  });

  it('shows a rotation made on another instance as soon as its notification arrives', async () => {
    const rotated = await second.app.inject({ method: 'POST', url: '/v1/issuer/keys/rotate', headers: bearer(second.adminKey) });
    expect(rotated.statusCode).toBe(201);
    await vi.waitFor(async () => expect(await kids(first)).toContain(rotated.json().kid), { timeout: 5000, interval: 20 });
  });
});
