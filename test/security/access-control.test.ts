import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/auth/roles.js';
import { CONFIGURATIONS, OFFERS, credentialRequest, type IssuerClient, type Method } from '../support/client.js';
import { expectDocumentedRejection } from '../support/hostile.js';
import { bearer, startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { holderKey, proofJwt } from '../support/wallet.js';

// Who gets in: every management route against every kind of credential, generated from the same
// source the router uses (app.managementRoutes, collected from each route's config.roles), and the
// README's role table checked against it so the documentation cannot drift.

const PUBLIC_URL = 'https://issuer.example.com';

let issuer: TestIssuer;
let api: IssuerClient;
const active = {} as Record<Role, string>;
const revoked = {} as Record<Role, string>;
let accessToken: string;
let preAuthorizedCode: string;
let cNonce: string;
let configurationId: string;

beforeAll(async () => {
  // The matrix makes hundreds of refused requests from one address in seconds: the brake on failed
  // authentication (test/security/failed-auth-throttle.test.ts) is off here, so every refusal is the router's.
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL, env: { AUTH_FAILURES_PER_MINUTE: '0' } });
  api = issuer.client;
  for (const role of ROLES) {
    active[role] = (await api.createKey(role, `active ${role}`)).key;
    const gone = await api.createKey(role, `revoked ${role}`);
    expect((await api.del(`/v1/api-keys/${gone.id}`)).statusCode).toBe(204);
    revoked[role] = gone.key;
  }
  configurationId = (await api.createConfiguration()).id;
  ({ token: accessToken, cNonce } = await api.startSession({ credentials: [configurationId] }));
  preAuthorizedCode = (await api.createOffer({ credentials: [configurationId] })).code;
});
afterAll(() => issuer.close());

/** The `| route | roles |` table of README.md, as `METHOD /path` → sorted roles. */
async function readmeRoleTable(): Promise<Map<string, string[]>> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => /^\|\s*route\s*\|\s*roles\s*\|\s*$/.test(line));
  expect(start, 'README.md has a | route | roles | table').toBeGreaterThanOrEqual(0);
  const table = new Map<string, string[]>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [route, roles] = line.split('|').slice(1, 3).map((cell) => cell.trim());
    const key = route!.replace(/`/g, '');
    expect(table.has(key), `${key} is listed twice`).toBe(false);
    table.set(key, roles!.split(',').map((role) => role.trim()).sort());
  }
  return table;
}

const routeKey = (route: { method: string; url: string }) => `${route.method} ${route.url}`;

describe('the role table', () => {
  it("README.md's role table is exactly app.managementRoutes (the roles the router enforces)", async () => {
    const documented = await readmeRoleTable();
    const enforced = new Map(issuer.app.managementRoutes.map((route) => [routeKey(route), [...route.roles].sort()]));
    expect(enforced.size).toBeGreaterThan(15);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(enforced));
  });

  it('every role of the table is a known role, and every route the OpenAPI document marks as needing an API key is in it', () => {
    for (const route of issuer.app.managementRoutes) for (const role of route.roles) expect(ROLES).toContain(role);
    const paths = (issuer.app.swagger() as { paths: Record<string, Record<string, { security?: unknown[] }>> }).paths;
    const secured = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => JSON.stringify(operation.security ?? []).includes('apiKey'))
        .map(([method]) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(secured.sort()).toEqual(issuer.app.managementRoutes.map(routeKey).sort());
  });
});

describe('role × route matrix', () => {
  it('no key, a malformed header, an unknown key, a revoked key, a wallet credential: 401; a role not listed: 403; a listed role: in', async () => {
    const refused: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['empty Bearer', { authorization: 'Bearer ' }],
      ['another scheme', { authorization: `Basic ${Buffer.from(`admin:${issuer.adminKey}`).toString('base64')}` }],
      ['the key without a scheme', { authorization: issuer.adminKey }],
      ['two keys', { authorization: `Bearer ${active.auditor} ${issuer.adminKey}` }],
      ['an unknown key', bearer(`vci_${randomUUID()}`)],
      ['a key one character short', bearer(issuer.adminKey.slice(0, -1))],
      ['a wallet access token', bearer(accessToken)],
      ['a pre-authorized code', bearer(preAuthorizedCode)],
      ['a c_nonce', bearer(cNonce)],
      ...ROLES.map((role): [string, Record<string, string>] => [`a revoked ${role} key`, bearer(revoked[role])]),
    ];
    const allowedCredentials: [string, Role][] = [...ROLES.map((role): [string, Role] => [active[role], role]), [issuer.adminKey, 'admin']];

    const routes = issuer.app.managementRoutes;
    for (const route of routes) {
      const url = route.url.replace(/:\w+/g, () => randomUUID());
      const payload = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
      const call = (headers: Record<string, string>) => api.call(route.method as Method, url, payload, null, headers);
      for (const [label, headers] of refused) {
        const response = await call(headers);
        const name = `${routeKey(route)} with ${label}`;
        expect(response.statusCode, `${name}: ${response.body}`).toBe(401);
        expect(response.json(), name).toEqual({ code: 'Unauthorized', message: expect.any(String) });
        expectDocumentedRejection('management', response, name);
      }
      for (const [key, role] of allowedCredentials) {
        const response = await call(bearer(key));
        const name = `${routeKey(route)} as ${role}${key === issuer.adminKey ? ' (ADMIN_API_KEY)' : ''}`;
        if (route.roles.includes(role)) {
          expect([401, 403], `${name}: ${response.body}`).not.toContain(response.statusCode);
          expect(response.statusCode, `${name}: ${response.body}`).toBeLessThan(500);
        } else {
          expect(response.statusCode, `${name}: ${response.body}`).toBe(403);
          expect(response.json(), name).toEqual({ code: 'Forbidden', message: expect.stringContaining(route.roles.join(', ')) });
        }
      }
    }
  });

  it('a refused request changes nothing; a 401 leaves no event (no one unauthenticated can fill the log), a 403 its FAIL', async () => {
    const before = await issuer.tables.counts();
    const { rows: seq } = await issuer.database.pool.query<{ max: string }>('SELECT coalesce(max(seq), 0) AS max FROM events');
    for (const key of [revoked.admin, accessToken, active.auditor]) {
      const response = await api.post(OFFERS, { credentials: [configurationId], claims: { name: 'x' } }, key);
      expect(response.statusCode).toBe(key === active.auditor ? 403 : 401);
    }
    expect(await issuer.tables.counts()).toEqual(before);
    const { rows: events } = await issuer.database.pool.query<{ type: string; actor: string | null }>('SELECT type, actor FROM events WHERE seq > $1 ORDER BY seq', [seq[0]!.max]);
    expect(events.map((event) => event.type)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_CREATE_START', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_FAIL']);
    expect(events[1]!.actor).not.toBeNull();
  });
});

describe('what a role may do', () => {
  it('a listed role really performs the operation; a refused one writes nothing', async () => {
    for (const role of ['issuer', 'managed-issuer'] as const) {
      const key = active[role];
      const offer = await api.createOffer({ credentials: [configurationId] }, key);
      expect((await api.get(`${OFFERS}/${offer.id}`, key)).json().status).toBe('pending');
      expect((await api.del(`${OFFERS}/${offer.id}`, key)).statusCode).toBe(204);
      expect((await api.get(`${CONFIGURATIONS}/${configurationId}`, key)).statusCode).toBe(200);
    }
    const before = await issuer.tables.count('credential_configurations');
    expect((await api.post(CONFIGURATIONS, { type: 'x' }, active['managed-issuer'])).statusCode).toBe(403);
    expect((await api.del(`${CONFIGURATIONS}/${configurationId}`, active['managed-issuer'])).statusCode).toBe(403);
    expect(await issuer.tables.count('credential_configurations')).toBe(before);
    const offers = await issuer.tables.count('offers');
    expect((await api.post(OFFERS, { credentials: [configurationId] }, active.auditor)).statusCode).toBe(403);
    expect(await issuer.tables.count('offers')).toBe(offers);
  });
});

describe('credentials of one kind never pass for the other', () => {
  it('API keys (each role, ADMIN_API_KEY, revoked) are never access tokens at the credential endpoint: 401 invalid_token', async () => {
    const holder = await holderKey();
    const body = credentialRequest(configurationId, [await proofJwt(holder, { aud: PUBLIC_URL, nonce: cNonce })]);
    for (const key of [...Object.values(active), ...Object.values(revoked), issuer.adminKey]) {
      const response = await api.requestCredential(key, body);
      expect(response.statusCode, response.body).toBe(401);
      expect(response.json()).toMatchObject({ error: 'invalid_token' });
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    }
    // Nor are pre-authorized codes or c_nonces.
    for (const secret of [preAuthorizedCode, cNonce]) {
      const response = await api.requestCredential(secret, body);
      expect(response.statusCode).toBe(401);
    }
    // The real access token is accepted with the same body: the 401s were about the credential alone.
    const response = await api.requestCredential(accessToken, body);
    expect(response.statusCode, response.body).toBe(200);
  });

  it('a revoked key stops working at once, on every route it could use', async () => {
    const { id, key } = await api.createKey('issuer', 'short-lived');
    expect((await api.get(OFFERS, key)).statusCode).toBe(200);
    expect((await api.del(`/v1/api-keys/${id}`)).statusCode).toBe(204);
    for (const route of issuer.app.managementRoutes.filter((r) => r.roles.includes('issuer') && r.method === 'GET')) {
      const response = await api.get(route.url.replace(/:\w+/g, () => randomUUID()), key);
      expect(response.statusCode, routeKey(route)).toBe(401);
    }
  });
});
