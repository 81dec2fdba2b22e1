import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/http/input-limits.js';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../../src/protocol.js';
import { USERS } from '../support/client.js';
import { SECURITY_HEADERS, expectDocumentedRejection, stateFingerprint } from '../support/hostile.js';
import { bearer, startTestIssuer, type TestIssuer } from '../support/issuer.js';

// Transport-level defences: security headers on every response (whatever answered it), request
// size and JSON depth limits in both error shapes, and answers to URLs and bytes Fastify cannot route.

let issuer: TestIssuer;
let accessToken: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true });
  const { id: configurationId } = await issuer.client.createConfiguration();
  ({ token: accessToken } = await issuer.client.startSession({ credentials: [configurationId] }));
});
afterAll(() => issuer.close());

const LIMIT = 500 * 1024;

describe('security headers', () => {
  it('are on every response: every documented route (as allowed, refused and malformed), 404s, 413s, 415s, bad URLs, /docs and /openapi.json', async () => {
    const paths = (issuer.app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths;
    const requests: { method: string; url: string; headers?: Record<string, string>; payload?: string }[] = [
      { method: 'GET', url: '/nowhere' },
      { method: 'GET', url: '/docs' },
      { method: 'GET', url: '/openapi.json' },
      { method: 'GET', url: '/v1/users/%E0%A4%A' },
      { method: 'POST', url: '/v1/users', headers: { ...bearer(issuer.adminKey), 'content-type': 'text/plain' }, payload: 'x' },
      { method: 'POST', url: '/v1/users', headers: { ...bearer(issuer.adminKey), 'content-type': 'application/json' }, payload: `{"claims":{"x":"${'x'.repeat(LIMIT)}"}}` },
    ];
    for (const [path, methods] of Object.entries(paths)) {
      for (const method of Object.keys(methods)) {
        const url = path.replace(/\{\w+\}/g, randomUUID());
        const auth = url.includes('/openid/credential') ? bearer(accessToken) : bearer(issuer.adminKey);
        requests.push({ method: method.toUpperCase(), url });
        requests.push({ method: method.toUpperCase(), url, headers: auth });
        if (method !== 'get') requests.push({ method: method.toUpperCase(), url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"broken":' });
      }
    }
    expect(requests.length).toBeGreaterThan(60);
    for (const request of requests) {
      const response = await issuer.app.inject(request as never);
      expect(response.headers, `${request.method} ${request.url} → ${response.statusCode}`).toMatchObject(SECURITY_HEADERS);
      expect(response.statusCode).toBeLessThan(500);
    }
  });

  it('HSTS only when the issuer is served over https', async () => {
    expect((await issuer.app.inject({ url: '/health/live' })).headers['strict-transport-security']).toBeUndefined();
    const https = await startTestIssuer({ publicUrl: 'https://issuer.example.com' });
    try {
      for (const url of ['/health/live', '/nowhere', '/v1/users/%E0%A4%A']) {
        expect((await https.app.inject({ url })).headers['strict-transport-security'], url).toMatch(/^max-age=31536000/);
      }
    } finally {
      await https.close();
    }
  });

  it('bytes that are not HTTP get a 400 in the management shape, with the headers, on a real socket', async () => {
    const { port } = new URL(issuer.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    for (const [name, value] of Object.entries({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' })) {
      expect(head.toLowerCase()).toContain(`${name}: ${value.toLowerCase()}`);
    }
    expect(JSON.parse(body)).toEqual({ code: 'BadRequest', message: expect.any(String) });
  });
});

describe('request size', () => {
  const padding = (bytes: number) => 'p'.repeat(bytes);

  it('bodies over 500 KB: 413 in the route’s shape (JSON management, JSON credential, form token), nothing written', async () => {
    const before = await stateFingerprint(issuer);
    const cases = [
      { kind: 'management' as const, url: '/v1/users', headers: { ...bearer(issuer.adminKey), 'content-type': 'application/json' }, payload: JSON.stringify({ claims: { x: padding(LIMIT) } }) },
      { kind: 'wallet' as const, url: WALLET_PATHS.credential, headers: { ...bearer(accessToken), 'content-type': 'application/json' }, payload: JSON.stringify({ format: padding(LIMIT) }) },
      {
        kind: 'wallet' as const,
        url: WALLET_PATHS.token,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=${encodeURIComponent(PRE_AUTHORIZED_GRANT)}&pre-authorized_code=${padding(LIMIT)}`,
      },
    ];
    for (const { kind, ...request } of cases) {
      const response = await issuer.app.inject({ method: 'POST', ...request });
      expectDocumentedRejection(kind, response, request.url);
      expect(response.statusCode).toBe(413);
      if (kind === 'management') expect(response.json().code).toBe('PayloadTooLarge');
    }
    expect(await stateFingerprint(issuer)).toEqual(before);
  });

  it('a body just under 500 KB is accepted', async () => {
    const response = await issuer.client.post(USERS, { claims: { x: padding(LIMIT - 100) } });
    expect(response.statusCode, response.body.slice(0, 200)).toBe(201);
  });
});

describe('JSON depth', () => {
  const nestedClaims = (depth: number) => `{"claims":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}}`;

  it(`exactly ${MAX_JSON_DEPTH} levels are accepted and stored`, async () => {
    const response = await issuer.client.post(USERS, nestedClaims(MAX_JSON_DEPTH));
    expect(response.statusCode, response.body).toBe(201);
    let level: unknown = response.json().claims;
    let depth = 1; // the body itself
    while (level && typeof level === 'object') {
      level = (level as { a: unknown }).a;
      depth++;
    }
    expect(depth).toBe(MAX_JSON_DEPTH);
  });

  it(`${MAX_JSON_DEPTH + 1} levels: 400 in the management shape, and in the OAuth shape at the credential endpoint`, async () => {
    const management = await issuer.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { ...bearer(issuer.adminKey), 'content-type': 'application/json' },
      payload: nestedClaims(MAX_JSON_DEPTH + 1),
    });
    expectDocumentedRejection('management', management);
    expect(management.json()).toEqual({ code: 'BadRequest', message: `Request body is nested deeper than ${MAX_JSON_DEPTH} levels` });
    const wallet = await issuer.app.inject({
      method: 'POST',
      url: WALLET_PATHS.credential,
      headers: { ...bearer(accessToken), 'content-type': 'application/json' },
      payload: `{"proofs":${'['.repeat(MAX_JSON_DEPTH)}]${']'.repeat(MAX_JSON_DEPTH - 1)}}`,
    });
    expectDocumentedRejection('wallet', wallet);
    expect(wallet.json()).toEqual({ error: 'invalid_credential_request', error_description: `Request body is nested deeper than ${MAX_JSON_DEPTH} levels` });
  });

  it('brackets inside strings do not count', async () => {
    const response = await issuer.client.post(USERS, { claims: { x: '['.repeat(1000) + '{"\\"'.repeat(100) } });
    expect(response.statusCode, response.body).toBe(201);
  });
});

describe('content types', () => {
  it('the credential endpoint takes JSON only (a form body: 415 in the OAuth shape); management routes too', async () => {
    const form = 'credential_configuration_id=x&proofs=y';
    const credential = await issuer.app.inject({ method: 'POST', url: WALLET_PATHS.credential, headers: { ...bearer(accessToken), 'content-type': 'application/x-www-form-urlencoded' }, payload: form });
    expectDocumentedRejection('wallet', credential);
    expect(credential.statusCode).toBe(415);
    expect(credential.json().error_description).toBe('Unsupported content type: send the body as application/json (Content-Type: application/json)');
    const management = await issuer.app.inject({ method: 'POST', url: '/v1/users', headers: { ...bearer(issuer.adminKey), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'claims=x' });
    expectDocumentedRejection('management', management);
    expect(management.json().code).toBe('UnsupportedMediaType');
  });
});

describe('URLs Fastify cannot route', () => {
  it('bad percent-encoding: 400 in the management shape, or the OAuth shape under a wallet path', async () => {
    const management = await issuer.app.inject({ url: '/v1/users/%E0%A4%A', headers: bearer(issuer.adminKey) });
    expectDocumentedRejection('management', management);
    expect(management.json().code).toBe('BadRequest');
    const wallet = await issuer.app.inject({ method: 'POST', url: '/v1/openid/credential/%E0%A4%A' });
    expectDocumentedRejection('wallet', wallet);
    expect(wallet.json().error).toBe('invalid_request');
  });

  it('an over-long path parameter: 414 in the management shape', async () => {
    const response = await issuer.app.inject({ url: `/v1/users/${'a'.repeat(500)}`, headers: bearer(issuer.adminKey) });
    expectDocumentedRejection('management', response);
    expect(response.statusCode).toBe(414);
  });
});
