import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/http/input-limits.js';
import { isForbiddenClaimKey } from '../../src/claims/claim-data.js';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../../src/protocol.js';
import { USERS, credentialRequest, type CreatedOffer } from '../support/client.js';
import { expectDocumentedRejection, expectHealthy, expectNoServerError, stateFingerprint, type RouteKind } from '../support/hostile.js';
import { bearer, startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { holderKey, proofJwt } from '../support/wallet.js';

// Property-based tests: hostile input against every route, through Fastify's whole HTTP stack
// (app.inject) and a real PostgreSQL. A rejected request is a 4xx in the documented shape of its
// route, changes nothing, and the service stays healthy. numRuns stay modest so the file is quick.

const RUNS = 60;
const PUBLIC_URL = 'https://issuer.example.com';

let issuer: TestIssuer;
let configurationId: string;
let userId: string;
/** An offer with a transaction code that no fuzzed request may touch: it must stay pending with no failed attempt. */
let guarded: CreatedOffer;
/** An unused access token: every fuzzed credential request uses it, and it must still work at the end. */
let accessToken: string;
let validProof: string;

beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL });
  const api = issuer.client;
  configurationId = (await api.createConfiguration()).id;
  guarded = await api.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
  const session = await api.startSession({ credentials: [configurationId] });
  userId = session.offer.userId;
  accessToken = session.token;
  validProof = await proofJwt(await holderKey(), { aud: PUBLIC_URL, nonce: await api.nonce() });
});
afterAll(() => issuer.close());

// --- every route, with a valid body to break field by field ---

type JsonType = 'string' | 'number' | 'boolean' | 'array' | 'object';

interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With `:id` where the route takes one. */
  url: string;
  kind: RouteKind;
  body: 'json' | 'form' | 'none';
  /** A body that is valid in shape (fields of the right types); fuzzing breaks one thing at a time. */
  valid?: () => Record<string, unknown>;
  /** The JSON type of each field of `valid`. */
  fields?: Record<string, JsonType>;
  /** Fields with a size limit: a string or array above it must be refused. */
  limits?: Record<string, { type: 'string' | 'array'; max: number }>;
  query?: string[];
}

const C = '/v2/credentials/sd-jwt/configurations';
const O = '/v1/openid/offers/pre-authorized';
const page = ['limit', 'cursor'];
const configurationBody = () => ({
  type: 'https://credentials.example.com/fuzz',
  name: 'Fuzz',
  description: 'fuzzed',
  claimMappings: { name: { mapFrom: 'claims.name', required: true } },
  expiresIn: { days: 1 },
  branding: { backgroundColor: '#000000' },
});
const configurationFields: Record<string, JsonType> = {
  type: 'string',
  name: 'string',
  description: 'string',
  claimMappings: 'object',
  expiresIn: 'object',
  branding: 'object',
  includeStatus: 'boolean',
  statusListBits: 'number',
};
const configurationLimits = { type: { type: 'string', max: 1024 }, name: { type: 'string', max: 200 }, description: { type: 'string', max: 1000 } } as const;
const M = '/v2/credentials/mobile/configurations';
const I = '/v2/credentials/mobile/iacas';
const D = '/v2/credentials/mobile/document-signers';
const mdocConfigurationBody = () => ({
  type: 'com.example.fuzz.1',
  name: 'Fuzz',
  description: 'fuzzed',
  claimMappings: { 'com.example.fuzz.1': { name: { mapFrom: 'claims.name', required: true, type: 'string' } } },
  expiresIn: { days: 1 },
  validUntil: new Date(Date.now() + 86_400_000).toISOString(),
  branding: { backgroundColor: '#000000' },
  includeStatus: false,
});
const mdocConfigurationFields: Record<string, JsonType> = { ...configurationFields, validFrom: 'string', validUntil: 'string' };
const statusBody = { body: 'json', valid: () => ({ status: 'invalid' }), fields: { status: 'string' } } as const;
// The status lists live in the wallet scope: their errors are OAuth-shaped, as for the other documents a verifier or wallet fetches.
const issuedCredentialRoutes = (profile: 'sd-jwt' | 'mobile'): RouteSpec[] => [
  { method: 'GET', url: `/v2/credentials/${profile}/:credentialId`, kind: 'management', body: 'none' },
  { method: 'DELETE', url: `/v2/credentials/${profile}/:credentialId`, kind: 'management', body: 'none' },
  { method: 'GET', url: `/v2/credentials/${profile}/:credentialId/status`, kind: 'management', body: 'none' },
  { method: 'POST', url: `/v2/credentials/${profile}/:credentialId/status`, kind: 'management', ...statusBody },
  { method: 'GET', url: `/v2/credentials/${profile}/status-lists/:id/token`, kind: 'wallet', body: 'none' },
  { method: 'GET', url: `/v2/credentials/${profile}/status-lists/distribution`, kind: 'wallet', body: 'none' },
];

const ROUTES: RouteSpec[] = [
  { method: 'GET', url: '/', kind: 'public', body: 'none' },
  { method: 'POST', url: '/v1/api-keys', kind: 'management', body: 'json', valid: () => ({ name: 'fuzz', role: 'auditor' }), fields: { name: 'string', role: 'string' }, limits: { name: { type: 'string', max: 200 } } },
  { method: 'GET', url: '/v1/api-keys', kind: 'management', body: 'none', query: page },
  { method: 'DELETE', url: '/v1/api-keys/:id', kind: 'management', body: 'none' },
  { method: 'GET', url: '/v1/analytics/events', kind: 'management', body: 'none', query: [...page, 'types', 'categories', 'dateFrom', 'dateTo'] },
  { method: 'GET', url: '/v1/issuer/keys', kind: 'management', body: 'none' },
  {
    method: 'PUT',
    url: '/v1/issuer/keys',
    kind: 'management',
    body: 'json',
    valid: () => ({ privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', certificateChainPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }),
    fields: { privateKeyPem: 'string', certificateChainPem: 'string' },
    limits: { privateKeyPem: { type: 'string', max: 16_384 } },
  },
  { method: 'POST', url: '/v1/issuer/keys/rotate', kind: 'management', body: 'none' },
  { method: 'POST', url: C, kind: 'management', body: 'json', valid: configurationBody, fields: configurationFields, limits: configurationLimits },
  { method: 'GET', url: C, kind: 'management', body: 'none', query: page },
  { method: 'GET', url: `${C}/:id`, kind: 'management', body: 'none' },
  { method: 'PUT', url: `${C}/:id`, kind: 'management', body: 'json', valid: configurationBody, fields: configurationFields, limits: configurationLimits },
  { method: 'DELETE', url: `${C}/:id`, kind: 'management', body: 'none' },
  { method: 'POST', url: M, kind: 'management', body: 'json', valid: mdocConfigurationBody, fields: mdocConfigurationFields, limits: configurationLimits },
  { method: 'GET', url: M, kind: 'management', body: 'none', query: page },
  { method: 'GET', url: `${M}/:id`, kind: 'management', body: 'none' },
  { method: 'PUT', url: `${M}/:id`, kind: 'management', body: 'json', valid: mdocConfigurationBody, fields: mdocConfigurationFields, limits: configurationLimits },
  { method: 'DELETE', url: `${M}/:id`, kind: 'management', body: 'none' },
  {
    method: 'POST',
    url: I,
    kind: 'management',
    body: 'json',
    valid: () => ({ country: 'US', stateOrProvinceName: 'US-CA', commonName: 'Fuzz IACA' }),
    fields: { country: 'string', stateOrProvinceName: 'string', commonName: 'string', notBefore: 'string', notAfter: 'string', certificatePem: 'string' },
    limits: { commonName: { type: 'string', max: 64 }, certificatePem: { type: 'string', max: 20_000 } },
  },
  { method: 'GET', url: I, kind: 'management', body: 'none', query: page },
  { method: 'GET', url: `${I}/:id`, kind: 'management', body: 'none' },
  { method: 'PUT', url: `${I}/:id`, kind: 'management', body: 'json', valid: () => ({ active: true }), fields: { active: 'boolean' } },
  { method: 'DELETE', url: `${I}/:id`, kind: 'management', body: 'none' },
  { method: 'GET', url: `${I}/:id/certificate`, kind: 'public', body: 'none' },
  { method: 'GET', url: `${I}/:id/crl`, kind: 'public', body: 'none' },
  { method: 'POST', url: D, kind: 'management', body: 'json', valid: () => ({ iacaId: randomUUID() }), fields: { iacaId: 'string' } },
  { method: 'GET', url: D, kind: 'management', body: 'none', query: [...page, 'iacaId'] },
  { method: 'GET', url: `${D}/:id`, kind: 'management', body: 'none' },
  {
    method: 'PUT',
    url: `${D}/:id`,
    kind: 'management',
    body: 'json',
    valid: () => ({ active: true, certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }),
    fields: { active: 'boolean', certificatePem: 'string' },
    limits: { certificatePem: { type: 'string', max: 20_000 } },
  },
  { method: 'DELETE', url: `${D}/:id`, kind: 'management', body: 'none' },
  { method: 'POST', url: `${D}/:id/revoke`, kind: 'management', body: 'none' },
  { method: 'POST', url: '/v1/users', kind: 'management', body: 'json', valid: () => ({ claims: { name: 'Ada' } }), fields: { claims: 'object' } },
  { method: 'GET', url: '/v1/users', kind: 'management', body: 'none', query: page },
  {
    method: 'POST',
    url: '/v1/users/search',
    kind: 'management',
    body: 'json',
    valid: () => ({ claims: { name: 'Ada' }, limit: 10 }),
    fields: { claims: 'object', limit: 'number', cursor: 'string' },
  },
  { method: 'GET', url: '/v1/users/:id', kind: 'management', body: 'none' },
  { method: 'PUT', url: '/v1/users/:id', kind: 'management', body: 'json', valid: () => ({ claims: { name: 'Ada' } }), fields: { claims: 'object' } },
  { method: 'DELETE', url: '/v1/users/:id', kind: 'management', body: 'none' },
  { method: 'GET', url: '/v1/users/:userId/credentials', kind: 'management', body: 'none', query: page },
  { method: 'POST', url: '/v1/users/:userId/credentials/status', kind: 'management', ...statusBody },
  ...issuedCredentialRoutes('sd-jwt'),
  ...issuedCredentialRoutes('mobile'),
  {
    method: 'POST',
    url: O,
    kind: 'management',
    body: 'json',
    valid: () => ({
      credentials: [configurationId],
      claims: { name: 'Ada' },
      claimsToPersist: ['name'],
      expiresIn: { minutes: 5 },
      transactionCodeConfiguration: { length: 6 },
      userId,
    }),
    fields: {
      credentials: 'array',
      userId: 'string',
      claims: 'object',
      claimsToPersist: 'array',
      expiresIn: 'object',
      transactionCodeConfiguration: 'object',
      byReference: 'boolean',
      qrCode: 'string',
    },
    limits: { credentials: { type: 'array', max: 50 }, claimsToPersist: { type: 'array', max: 1000 } },
  },
  { method: 'GET', url: O, kind: 'management', body: 'none', query: [...page, 'status', 'userId'] },
  { method: 'GET', url: `${O}/:id`, kind: 'management', body: 'none' },
  { method: 'GET', url: `${O}/:id/qrcode`, kind: 'management', body: 'none' },
  { method: 'DELETE', url: `${O}/:id`, kind: 'management', body: 'none' },
  ...(['POST', 'PUT'] as const).map(
    (method): RouteSpec => ({
      method,
      url: method === 'POST' ? '/v1/webhooks' : '/v1/webhooks/:id',
      kind: 'management',
      body: 'json',
      valid: () => ({ url: 'https://hooks.example.com/fuzz', events: ['offer.created'], disabled: true }),
      fields: { url: 'string', events: 'array', disabled: 'boolean' },
      limits: { url: { type: 'string', max: 2048 }, events: { type: 'array', max: 32 } },
    }),
  ),
  { method: 'GET', url: '/v1/webhooks', kind: 'management', body: 'none', query: page },
  { method: 'GET', url: '/v1/webhooks/:id', kind: 'management', body: 'none' },
  { method: 'DELETE', url: '/v1/webhooks/:id', kind: 'management', body: 'none' },
  { method: 'GET', url: '/v1/webhooks/:id/deliveries', kind: 'management', body: 'none', query: page },
  { method: 'POST', url: '/v1/webhooks/deliveries/:id/redeliver', kind: 'management', body: 'none' },
  { method: 'POST', url: `${O}/:id/credentials/status`, kind: 'management', ...statusBody },
  {
    method: 'POST',
    url: WALLET_PATHS.token,
    kind: 'wallet',
    body: 'form',
    valid: () => ({ grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': guarded.code, tx_code: 'wrong' }),
    limits: { 'pre-authorized_code': { type: 'string', max: 512 }, tx_code: { type: 'string', max: 64 }, grant_type: { type: 'string', max: 200 } },
  },
  { method: 'POST', url: WALLET_PATHS.nonce, kind: 'wallet', body: 'none' },
  {
    method: 'POST',
    url: WALLET_PATHS.credential,
    kind: 'wallet',
    body: 'json',
    valid: () => ({ credential_configuration_id: configurationId, proofs: { jwt: [validProof] } }),
    fields: { credential_configuration_id: 'string', proofs: 'object', format: 'string', vct: 'string', doctype: 'string', proof: 'object', credential_identifier: 'string' },
    limits: { credential_configuration_id: { type: 'string', max: 200 }, format: { type: 'string', max: 100 }, vct: { type: 'string', max: 1024 }, doctype: { type: 'string', max: 1024 } },
  },
  {
    method: 'POST',
    url: WALLET_PATHS.notification,
    kind: 'wallet',
    body: 'json',
    // Well-formed, for no credentials of the token: even the valid body changes nothing.
    valid: () => ({ notification_id: '00000000-0000-4000-8000-000000000000', event: 'credential_accepted', event_description: 'fuzz' }),
    fields: { notification_id: 'string', event: 'string', event_description: 'string' },
    limits: { notification_id: { type: 'string', max: 100 }, event_description: { type: 'string', max: 1000 } },
  },
  { method: 'GET', url: `${WALLET_PATHS.credentialOffer}/:reference`, kind: 'public', body: 'none' },
  { method: 'GET', url: '/.well-known/openid-credential-issuer', kind: 'public', body: 'none' },
  { method: 'GET', url: '/.well-known/oauth-authorization-server', kind: 'public', body: 'none' },
  { method: 'GET', url: '/.well-known/jwt-vc-issuer', kind: 'public', body: 'none' },
  { method: 'GET', url: '/health/live', kind: 'public', body: 'none' },
  { method: 'GET', url: '/health/ready', kind: 'public', body: 'none' },
];

const name = (route: RouteSpec) => `${route.method} ${route.url}`;
const withBody = ROUTES.filter((route) => route.body !== 'none' || (route.method !== 'GET' && route.kind !== 'public'));
const jsonRoutes = ROUTES.filter((route) => route.body === 'json');
const withFields = ROUTES.filter((route) => route.fields);
const withLimits = ROUTES.filter((route) => route.limits);
const withId = ROUTES.filter((route) => route.url.includes(':id'));
const withQuery = ROUTES.filter((route) => route.query);

/** The credentials a route needs so that its input is looked at at all (not refused with 401 first). */
function authFor(route: RouteSpec): Record<string, string> {
  if (route.kind === 'management') return bearer(issuer.adminKey);
  if (route.url === WALLET_PATHS.credential || route.url === WALLET_PATHS.notification) return bearer(accessToken);
  return {};
}

/** A real configuration id for routes that would only 404 otherwise; never used by a destructive route with a valid body. */
const urlFor = (route: RouteSpec, id: string = randomUUID()) => route.url.replace(':id', id);

function send(route: RouteSpec, options: { url?: string; payload?: string | Buffer; contentType?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...authFor(route), ...options.headers };
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const request: InjectOptions = { method: route.method, url: options.url ?? urlFor(route), headers };
  if (options.payload !== undefined) request.payload = options.payload;
  return issuer.app.inject(request);
}

/** The natural content type of a route's body. */
const contentTypeOf = (route: RouteSpec) => (route.body === 'form' ? 'application/x-www-form-urlencoded' : 'application/json');

function encodeBody(route: RouteSpec, body: unknown): string {
  if (route.body !== 'form') return JSON.stringify(body);
  return Object.entries(body as Record<string, unknown>)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`)
    .join('&');
}

/** Runs a property whose every case must be refused: the state is the same afterwards, and the service healthy. */
async function assertRejectsAll<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, numRuns = RUNS) {
  const before = await stateFingerprint(issuer);
  await fc.assert(fc.asyncProperty(arbitrary, predicate), { numRuns });
  expect(await stateFingerprint(issuer)).toEqual(before);
  await expectHealthy(issuer);
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** Any JSON value that is not of `type`. */
const valueNotOf = (type: JsonType) =>
  fc
    .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
    .filter((value) => {
      const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      return actual !== type;
    });

const SQL_LOOKING = [
  "' OR '1'='1",
  "'; DROP TABLE offers; --",
  '" OR ""="',
  "1; SELECT pg_sleep(5)--",
  "admin'--",
  "%' AND 1=1 AND '%'='",
  '$1',
  "E'\\\\x00'",
  '\\',
  "' UNION SELECT code_hash FROM offers --",
  '); DELETE FROM users; --',
  '{"$ne": null}',
];
const sqlLooking = fc.oneof(fc.constantFrom(...SQL_LOOKING), fc.tuple(fc.constantFrom(...SQL_LOOKING), fc.string({ maxLength: 10 })).map(([a, b]) => a + b));

/** Strings a careless system trips over (but PostgreSQL can store). */
const oddText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
  fc.constantFrom('\u202e', '\u200b\u200d', '\ufeff', '\u2028\u2029', 'e\u0301', '𝕏🏳️‍🌈', '\uffff', '\ufffd', '%00', '%ZZ', '..%2f..%2f', '<script>alert(1)</script>', '${jndi:ldap://x}', '{{7*7}}'),
  sqlLooking,
);
/** Claim names the service accepts: fast-check also generates `valueOf`, `__proto__` and the like, which are refused by design (test/security/reserved-claim-keys.test.ts). */
const claimName = oddText.filter((key) => key.length > 0 && key.length <= 256 && !isForbiddenClaimKey(key));
/** Strings PostgreSQL cannot store: the service must refuse them up front. */
const unstorableText = fc.oneof(
  fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map(([a, b]) => `${a}\u0000${b}`),
  fc.constantFrom('\ud800', 'a\udfffb', '\udc00\ud800', 'x\ud83d'),
);

/** PostgreSQL's jsonb containment (`a @> b`) for values nested in an object. */
function contains(a: unknown, b: unknown): boolean {
  if (Array.isArray(b)) return Array.isArray(a) && b.every((item) => a.some((candidate) => contains(candidate, item)));
  if (b !== null && typeof b === 'object') {
    if (a === null || typeof a !== 'object' || Array.isArray(a)) return false;
    return Object.entries(b).every(([key, value]) => Object.hasOwn(a, key) && contains((a as Record<string, unknown>)[key], value));
  }
  return a === b;
}

// --- the properties ---

describe('the fuzzed routes are every route', () => {
  it('the route table above covers every route the OpenAPI document lists, so a new route cannot escape fuzzing', () => {
    const documented = Object.entries((issuer.app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(ROUTES.map(name).sort()).toEqual(documented.sort());
  });
});

describe('malformed bodies', () => {
  it('malformed and truncated JSON: 400 in the route’s shape', async () => {
    const truncated = fc
      .tuple(fc.constantFrom(...jsonRoutes), fc.double({ min: 0, max: 1, maxExcluded: true }))
      .map(([route, cut]) => {
        const text = encodeBody(route, route.valid!());
        return [route, text.slice(0, Math.floor(text.length * cut))] as const;
      });
    const garbage = fc.tuple(
      fc.constantFrom(...withBody),
      fc.oneof(
        fc.string({ maxLength: 50 }),
        fc.constantFrom('{', '}', '[1,]', '{"a":1,}', "{'a':1}", '{"a":NaN}', '{"a":01}', '{"a":1}//', '/*x*/{}', '{"a"}', '"\\x41"', 'undefined', '{"a":"\u0001"}', '\ufeff{'),
      ),
    );
    // An empty body is no JSON, but a route that takes no body (the nonce endpoint, a key rotation) accepts one.
    const malformed = ([route, text]: readonly [(typeof ROUTES)[number], string]) => !isJson(text) && !(route.body === 'none' && text === '');
    await assertRejectsAll(fc.oneof(truncated, garbage).filter(malformed), async ([route, text]) => {
      const response = await send(route, { payload: text, contentType: 'application/json' });
      expectDocumentedRejection(route.kind, response, `${name(route)} ${JSON.stringify(text)}`);
    });
  });

  it('wrong content types: 4xx (415, or 400 where the route names the content type it needs)', async () => {
    const types = fc.oneof(
      fc.constantFrom('text/plain', 'application/xml', 'text/html', 'application/octet-stream', 'multipart/form-data; boundary=x', 'image/png', 'application/jsonx', 'application/x-www-form-urlencoded', 'application/json'),
      fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/)).map(([a, b]) => `${a}/${b}`),
    );
    const routes = ROUTES.filter((route) => route.body !== 'none');
    await assertRejectsAll(
      fc.tuple(fc.constantFrom(...routes), types, fc.string({ maxLength: 40 })).filter(([route, type]) => type !== contentTypeOf(route)),
      async ([route, type, text]) => {
        // A form-encoded body of a JSON route carries a valid body's fields as strings; a JSON one for the form route is valid JSON.
        const payload = type === 'application/json' ? JSON.stringify(route.valid!()) : type.includes('form-urlencoded') ? encodeBody({ ...route, body: 'form' }, route.valid!()) : text;
        const response = await send(route, { payload, contentType: type });
        expectDocumentedRejection(route.kind, response, `${name(route)} as ${type}`);
      },
    );
  });

  it('a body of the wrong JSON type, or one field of the wrong type: 400', async () => {
    const topLevel = fc.tuple(fc.constantFrom(...jsonRoutes), fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.boolean(), fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 })));
    const oneField = fc.constantFrom(...withFields).chain((route) =>
      fc.constantFrom(...Object.keys(route.fields!)).chain((field) => valueNotOf(route.fields![field]!).map((value) => [route, { ...route.valid!(), [field]: value }] as const)),
    );
    await assertRejectsAll(fc.oneof(topLevel, oneField), async ([route, body]) => {
      const response = await send(route, { payload: JSON.stringify(body), contentType: 'application/json' });
      expectDocumentedRejection(route.kind, response, `${name(route)} ${JSON.stringify(body).slice(0, 200)}`);
    });
  });

  it('strings and arrays over their limits, and bodies over 500 KB: 400 and 413', async () => {
    const overLimit = fc.constantFrom(...withLimits).chain((route) =>
      fc.constantFrom(...Object.entries(route.limits!)).chain(([field, limit]) =>
        fc.integer({ min: limit.max + 1, max: Math.max(limit.max * 4, 5000) }).map((length) => {
          const value = limit.type === 'string' ? 'x'.repeat(length) : Array.from({ length }, () => configurationId);
          return [route, { ...route.valid!(), [field]: value }] as const;
        }),
      ),
    );
    const oversized = fc
      .tuple(fc.constantFrom(...ROUTES.filter((route) => route.body !== 'none')), fc.integer({ min: 501 * 1024, max: 2 * 1024 * 1024 }))
      .map(([route, size]) => [route, { ...route.valid!(), padding: 'p'.repeat(size) }] as const);
    await assertRejectsAll(
      fc.oneof(overLimit, oversized),
      async ([route, body]) => {
        const response = await send(route, { payload: encodeBody(route, body), contentType: contentTypeOf(route) });
        expectDocumentedRejection(route.kind, response, name(route));
        if (Buffer.byteLength(encodeBody(route, body)) > 500 * 1024) {
          expect(response.statusCode).toBe(413);
          if (route.kind === 'management') expect(response.json().code).toBe('PayloadTooLarge');
        }
      },
      30,
    );
  });

  it(`JSON nested deeper than ${MAX_JSON_DEPTH} levels: 400 before parsing, anywhere in the body`, async () => {
    const nested = fc.tuple(fc.constantFrom(...jsonRoutes), fc.integer({ min: MAX_JSON_DEPTH + 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean()).map(([route, depth, open, inField]) => {
      const deep = `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`;
      // The whole body, or a field of an otherwise valid body.
      return [route, inField ? JSON.stringify(route.valid!()).replace(/^\{/, `{"x":${deep},`) : deep] as const;
    });
    await assertRejectsAll(
      nested,
      async ([route, text]) => {
        const response = await send(route, { payload: text, contentType: 'application/json' });
        expectDocumentedRejection(route.kind, response, name(route));
        expect(response.statusCode).toBe(400);
        // The depth check answered, not a validation error after a full parse.
        expect(route.kind === 'wallet' ? response.json().error_description : response.json().message).toMatch(/nested deeper than 32 levels/);
      },
      30,
    );
  });

  it('`__proto__` and `constructor.prototype` keys, at any depth: 400, and nothing is polluted', async () => {
    const poison = fc.constantFrom('{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"__proto__":null}');
    const placed = fc.tuple(fc.constantFrom(...jsonRoutes), poison, fc.boolean()).map(([route, bad, nested]) => {
      const body = JSON.stringify(route.valid!());
      return [route, nested ? body.replace(/^\{/, `{"x":${bad},`) : bad] as const;
    });
    await assertRejectsAll(placed, async ([route, text]) => {
      const response = await send(route, { payload: text, contentType: 'application/json' });
      expectDocumentedRejection(route.kind, response, `${name(route)} ${text}`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  it('form bodies with repeated or odd parameters at the token endpoint: invalid_request, and the offer is untouched', async () => {
    const token = ROUTES.find((route) => route.url === WALLET_PATHS.token)!;
    const field = fc.constantFrom('grant_type', 'pre-authorized_code', 'tx_code', 'user_pin');
    const value = fc.oneof(fc.constant(guarded.code), fc.constant(String(guarded.transactionCode)), fc.constant(PRE_AUTHORIZED_GRANT), oddText);
    const repeated = fc.tuple(field, fc.array(value, { minLength: 2, maxLength: 4 })).map(([key, values]) => {
      const base = { grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': guarded.code, tx_code: String(guarded.transactionCode) };
      const rest = Object.entries(base).filter(([k]) => k !== key);
      return [...rest, ...values.map((v) => [key, v] as [string, string])].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    });
    // Every parameter present once, but a required one repeated under the draft 11 name too.
    const both = fc.constant(`grant_type=${encodeURIComponent(PRE_AUTHORIZED_GRANT)}&pre-authorized_code=${guarded.code}&tx_code=1&tx_code=2`);
    const odd = fc.constantFrom('grant_type', 'pre-authorized_code=%ZZ', '=', '&&&', '__proto__=x&grant_type=y', 'constructor=1', 'a[b]=c&grant_type[]=x', '%00=%00');
    await assertRejectsAll(fc.oneof(repeated, both, odd), async (form) => {
      const response = await send(token, { payload: form, contentType: 'application/x-www-form-urlencoded' });
      expectDocumentedRejection('wallet', response, form);
    });
    // The offer whose real code and transaction code were in many of those bodies: still redeemable, once.
    const { rows } = await issuer.database.pool.query('SELECT status, failed_attempts FROM offers WHERE id = $1', [guarded.id]);
    expect(rows[0]).toEqual({ status: 'pending', failed_attempts: 0 });
  });
});

describe('hostile values', () => {
  it('U+0000 and unpaired surrogates anywhere (body values and keys, query, path): 400 naming the parameter', async () => {
    const inBody = fc.tuple(fc.constantFrom(...withFields), unstorableText, fc.boolean()).map(([route, text, asKey]) => {
      const body = route.valid!();
      const field = Object.keys(route.fields!).find((key) => route.fields![key] === 'string' || route.fields![key] === 'object')!;
      const value = route.fields![field] === 'object' ? (asKey ? { [text]: 'x' } : { k: text }) : text;
      return [route, { payload: JSON.stringify({ ...body, [field]: value }), contentType: 'application/json' }] as const;
    });
    // In a URL a lone surrogate can only arrive as invalid UTF-8, which decodes to U+FFFD; U+0000 arrives as %00.
    const inQuery = fc.tuple(fc.constantFrom(...withQuery), fc.constantFrom('%00', 'a%00b', '%00%00')).chain(([route, text]) =>
      fc.constantFrom(...route.query!).map((param) => [route, { url: `${route.url}?${param}=${text}` }] as const),
    );
    const inPath = fc.tuple(fc.constantFrom(...withId), fc.constantFrom('%00', 'a%00b', '%ED%A0%80')).map(([route, text]) => [route, { url: urlFor(route, text) }] as const);
    await assertRejectsAll(fc.oneof(inBody, inQuery, inPath), async ([route, request]) => {
      const response = await send(route, request);
      expectDocumentedRejection(route.kind, response, `${name(route)} ${JSON.stringify(request)}`);
      expect(response.statusCode).toBe(400);
    });
  });

  it('the 400 names the exact place of the first unstorable value, deep in arrays and objects, key or value', async () => {
    const cases = [
      [{ claims: { a: ['ok', { b: ['x', 'y\u0000'] }] } }, 'claims.a[1].b[1]'],
      [{ claims: { a: 'ok', list: [{ ['k\ud800']: 1 }] } }, 'claims.list[0].k\ud800'],
      [{ claims: { a: ['\udc00'], b: '\u0000' } }, 'claims.a[0]'],
    ] as const;
    for (const [payload, param] of cases) {
      const response = await issuer.client.post(USERS, payload);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().details).toEqual([{ location: 'body', param, msg: 'must not contain U+0000 or unpaired surrogate characters' }]);
    }
  });

  it('SQL-looking, control-character and odd unicode strings are stored and returned exactly as sent (no injection, no mangling)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(claimName, fc.oneof(oddText, fc.array(oddText, { maxLength: 3 })), { minKeys: 1, maxKeys: 4 }), async (claims) => {
        const created = await issuer.client.post(USERS, { claims });
        expectNoServerError(created);
        expect(created.statusCode, created.body).toBe(201);
        const { id } = created.json();
        const read = await issuer.client.get(`${USERS}/${id}`);
        expect(read.json().claims).toEqual(claims);
        // Searching by those claims finds exactly users that hold them (jsonb containment), never everyone.
        const search = await issuer.client.post(`${USERS}/search`, { claims });
        expect(search.statusCode, search.body).toBe(200);
        const found = search.json().data as { id: string; claims: Record<string, unknown> }[];
        expect(found.map((user) => user.id)).toContain(id);
        for (const user of found) expect(contains(user.claims, claims), JSON.stringify(user.claims)).toBe(true);
      }),
      { numRuns: 40 },
    );
    await expectHealthy(issuer);
  });

  it('SQL-looking and odd strings in query parameters, path parameters, codes and tokens: never a 5xx, never a write', async () => {
    const query = fc.tuple(fc.constantFrom(...withQuery), oddText).chain(([route, text]) =>
      fc.constantFrom(...route.query!).map((param) => [route, { url: `${route.url}?${param}=${encodeURIComponent(text)}` }] as const),
    );
    const path = fc.tuple(fc.constantFrom(...withId.filter((route) => route.method === 'GET' || route.method === 'DELETE')), oddText).map(
      ([route, text]) => [route, { url: urlFor(route, encodeURIComponent(text || 'x')) }] as const,
    );
    const token = ROUTES.find((route) => route.url === WALLET_PATHS.token)!;
    const codes = fc
      .tuple(oddText, fc.option(oddText, { nil: undefined }))
      .map(([code, tx]) => [token, { payload: new URLSearchParams({ grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': code, ...(tx !== undefined && { tx_code: tx }) }).toString(), contentType: 'application/x-www-form-urlencoded' }] as const);
    const credential = ROUTES.find((route) => route.url === WALLET_PATHS.credential)!;
    const tokens = fc
      .oneof(oddText, fc.stringMatching(/^[A-Za-z0-9_-]{20,60}[=]{0,3}$/))
      .map((text) => [credential, { headers: { authorization: `Bearer ${text.replace(/[^\x20-\x7e]/g, '')}` }, payload: JSON.stringify(credential.valid!()), contentType: 'application/json' }] as const);
    const before = await stateFingerprint(issuer);
    await fc.assert(
      fc.asyncProperty(fc.oneof(query, path, codes, tokens), async ([route, request]) => {
        const response = await send(route, request);
        expectNoServerError(response, `${name(route)} ${JSON.stringify(request).slice(0, 300)}`);
        if (response.statusCode >= 400) expectDocumentedRejection(route.kind, response, `${name(route)} ${JSON.stringify(request).slice(0, 300)}`);
      }),
      { numRuns: RUNS * 2 },
    );
    expect(await stateFingerprint(issuer)).toEqual(before);
    await expectHealthy(issuer);
  });

  it('broken base64url in cursors and key proofs: 400 in the route’s shape', async () => {
    const broken = fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }).filter((text) => !/^s\d{1,19}$/.test(Buffer.from(text, 'base64url').toString('utf8'))),
      fc.constantFrom('====', '!!!!', 'czE', 'cy0x', 'c' + '='.repeat(10), '%%%%', 'YQ', Buffer.from('s12abc').toString('base64url')),
    ).filter((text) => !/^s\d{1,19}$/.test(Buffer.from(text, 'base64url').toString('utf8')));
    const cursor = fc
      .tuple(fc.constantFrom(...withQuery.filter((route) => route.query!.includes('cursor'))), broken)
      .map(([route, text]) => [route, { url: `${route.url}?cursor=${encodeURIComponent(text)}` }] as const);
    const search = ROUTES.find((route) => route.url === '/v1/users/search')!;
    const bodyCursor = broken.map((text) => [search, { payload: JSON.stringify({ claims: {}, cursor: text.slice(0, 64) }), contentType: 'application/json' }] as const);
    const credential = ROUTES.find((route) => route.url === WALLET_PATHS.credential)!;
    const segments = validProof.split('.');
    const brokenProof = fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.oneof(broken, fc.constantFrom('', '.', '+/', 'e30')))
      .map(([index, text]) => segments.map((segment, i) => (i === index ? text : segment)).join('.'))
      .map((jwt) => [credential, { payload: JSON.stringify({ credential_configuration_id: configurationId, proofs: { jwt: [jwt] } }), contentType: 'application/json' }] as const);
    await assertRejectsAll(fc.oneof(cursor, bodyCursor, brokenProof), async ([route, request]) => {
      const response = await send(route, request);
      expectDocumentedRejection(route.kind, response, `${name(route)} ${JSON.stringify(request).slice(0, 300)}`);
      expect(response.statusCode).toBe(400);
    });
  });
});

describe('afterwards', () => {
  it('the guarded offer and the access token used by every fuzzed credential request still work, once', async () => {
    const wrong = await issuer.client.requestToken({ 'pre-authorized_code': guarded.code });
    expect(wrong.statusCode).toBe(400);
    await issuer.client.redeem(guarded);
    const issued = await issuer.client.requestCredential(accessToken, credentialRequest(configurationId, [validProof]));
    expect(issued.statusCode, issued.body).toBe(200);
    await expectHealthy(issuer);
  });
});
