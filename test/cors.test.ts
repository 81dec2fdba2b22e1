import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WALLET_PATHS } from '../src/protocol.js';
import { OFFERS, CONFIGURATIONS } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// Browser wallets call the issuer from their own origin: the metadata, offers by reference and the
// token, nonce and credential endpoints answer preflights and carry Access-Control-Allow-Origin; the
// management API stays closed to pages of other origins.
const WALLET_ORIGIN = 'https://wallet.example.com';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const preflight = (target: TestIssuer, url: string, method: string, headers = 'authorization, content-type, dpop', origin = WALLET_ORIGIN) =>
  target.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

describe('the wallet endpoints', () => {
  it('answer preflights for POST with the headers a wallet sends (DPoP included), and expose the headers it reads', async () => {
    for (const path of [WALLET_PATHS.token, WALLET_PATHS.nonce, WALLET_PATHS.credential]) {
      const answer = await preflight(issuer, path, 'POST');
      expect(answer.statusCode, path).toBe(204);
      expect(answer.headers).toMatchObject({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
        'access-control-max-age': '600',
      });
      expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('let a page read their answers, errors included: the WWW-Authenticate challenge and DPoP-Nonce are exposed', async () => {
    const { code } = await issuer.client.createOffer({ credentials: [(await issuer.client.createConfiguration()).id] });
    const token = await issuer.client.requestToken({ 'pre-authorized_code': code }, { headers: { origin: WALLET_ORIGIN } });
    expect(token.statusCode).toBe(200);
    expect(token.headers['access-control-allow-origin']).toBe('*');
    expect(String(token.headers['access-control-expose-headers'])).toBe('DPoP-Nonce, WWW-Authenticate, Retry-After');

    const refused = await issuer.client.requestCredential('not-a-token', { credential_configuration_id: 'x', proofs: { jwt: ['x'] } }, { origin: WALLET_ORIGIN });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    expect(refused.headers['www-authenticate']).toMatch(/invalid_token/);
  });
});

describe('public documents', () => {
  it('metadata and offers by reference are readable from any origin', async () => {
    const offer = await issuer.client.createOffer({ credentials: [(await issuer.client.createConfiguration()).id], byReference: true });
    const offerPath = new URL(decodeURIComponent(/credential_offer_uri=(.+)$/.exec(offer.uri)![1]!)).pathname;
    for (const path of ['/.well-known/openid-credential-issuer', '/.well-known/oauth-authorization-server', '/.well-known/jwt-vc-issuer', offerPath]) {
      const answer = await issuer.app.inject({ url: path, headers: { origin: WALLET_ORIGIN } });
      expect(answer.statusCode, path).toBe(200);
      expect(answer.headers['access-control-allow-origin'], path).toBe('*');
      const options = await preflight(issuer, path, 'GET', 'accept-language');
      expect(options.statusCode, path).toBe(204);
      expect(options.headers['access-control-allow-methods'], path).toBe('GET, HEAD');
    }
  });
});

describe('the management API', () => {
  it('is closed to other origins: preflights are 404s and answers carry no Access-Control-Allow-Origin', async () => {
    const answer = await preflight(issuer, OFFERS, 'POST');
    expect(answer.statusCode).toBe(404);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.json()).toMatchObject({ code: 'NotFound' });
    const listed = await issuer.client.call('GET', CONFIGURATIONS, undefined, issuer.adminKey, { origin: WALLET_ORIGIN });
    expect(listed.statusCode).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('every route: a management route (or health) is closed, every other one open, so a new route is a decision', async () => {
    // (IACA certificates and CRLs are public documents on the management path: verifiers fetch them.)
    const document = issuer.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const management = new Set(issuer.app.managementRoutes.map((route) => `${route.method} ${route.url}`));
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const url = path.replace(/\{(\w+)\}/g, 'x');
        const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1');
        const closed = management.has(`${method} ${fastifyPath}`) || path.startsWith('/health/');
        const answer = await preflight(issuer, url, method, 'content-type');
        expect(answer.headers['access-control-allow-origin'], `${method} ${path}`).toBe(closed ? undefined : '*');
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked.length).toBeGreaterThan(30);
  });
});

describe('configured origins', () => {
  it('CORS_WALLET_ORIGINS lists the origins the wallet endpoints answer, CORS_PUBLIC_ORIGINS=none closes the documents', async () => {
    const narrowed = await startTestIssuer({
      databaseUrl: issuer.databaseUrl,
      publicUrl: 'https://issuer.example.com/tenant',
      env: { CORS_WALLET_ORIGINS: `${WALLET_ORIGIN},https://other-wallet.example.org`, CORS_PUBLIC_ORIGINS: 'none' },
    });
    try {
      const allowed = await preflight(narrowed, `/tenant${WALLET_PATHS.token}`, 'POST');
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(WALLET_ORIGIN);
      expect(allowed.headers.vary).toMatch(/Origin/);
      const other = await preflight(narrowed, `/tenant${WALLET_PATHS.token}`, 'POST', 'content-type', 'https://evil.example.net');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      // Only under PUBLIC_URL's path, where the endpoints are.
      expect((await preflight(narrowed, WALLET_PATHS.token, 'POST')).statusCode).toBe(404);

      const metadata = await narrowed.app.inject({ url: '/.well-known/openid-credential-issuer/tenant', headers: { origin: WALLET_ORIGIN } });
      expect(metadata.statusCode).toBe(200);
      expect(metadata.headers['access-control-allow-origin']).toBeUndefined();
      expect((await preflight(narrowed, '/.well-known/openid-credential-issuer/tenant', 'GET')).statusCode).toBe(404);
    } finally {
      await narrowed.close();
    }
  });
});
