import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationsOf } from '../src/http/openapi-conventions.js';
import { bearer, startTestIssuer, type TestIssuer } from './support/issuer.js';

// The interactive reference at /docs, as a person (or a client generator) reads the OpenAPI document
// behind it: every operation named and described, request examples valid, and off when DOCS=false.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document, read member by member
type Json = Record<string, any>;

let issuer: TestIssuer;
let document: Json;
beforeAll(async () => {
  issuer = await startTestIssuer();
  document = (await issuer.app.inject('/openapi.json')).json();
});
afterAll(() => issuer.close());

describe('the OpenAPI document', () => {
  it('gives every operation a unique operationId, and every response code a description of its own', () => {
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThan(60);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id)), JSON.stringify(ids)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation } of operations) {
      const responses = Object.entries(operation.responses as Record<string, Json>);
      expect(responses.some(([status]) => /^[23]/.test(status)), `${method} ${path} documents no success`).toBe(true);
      for (const [status, response] of responses) {
        expect(response.description, `${method} ${path} ${status}`).toMatch(/\w/);
        expect(response.description, `${method} ${path} ${status}`).not.toBe('Default Response');
      }
    }
  });

  it('says how to authenticate, and marks each management operation with its scheme', () => {
    expect(document.info.description).toMatch(/## Authentication/);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['accessToken', 'apiKey']);
    expect(document.paths['/v1/openid/offers/pre-authorized'].post.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/v1/openid/credential'].post.security).toEqual([{ accessToken: [] }]);
  });

  it('has no duplicate schemas, no Input twin of a schema that is the same, and every $ref resolves', () => {
    const schemas = document.components.schemas as Record<string, unknown>;
    const bodies = Object.values(schemas).map((schema) => JSON.stringify(schema));
    expect(new Set(bodies).size).toBe(bodies.length);
    for (const name of Object.keys(schemas)) expect(name).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    for (const [, name] of JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(schemas, name).toHaveProperty([name!]);
  });

  it('has an example for every request body, valid against the schema it documents', () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi.json', components: document.components });
    let checked = 0;
    for (const { method, path, operation } of operationsOf(document) as { method: string; path: string; operation: Json }[]) {
      for (const [type, media] of Object.entries((operation.requestBody?.content ?? {}) as Record<string, Json>)) {
        expect(media.example, `${method} ${path} ${type} has no example`).toBeDefined();
        const schema = JSON.parse(JSON.stringify(media.schema).replaceAll('"#/components/', '"openapi.json#/components/'));
        const validate = ajv.compile(schema);
        expect(validate(media.example), `${method} ${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
    // The check can fail: an example that breaks its schema is caught.
    const offer = ajv.compile({ $ref: 'openapi.json#/components/schemas/CreatePreAuthorizedOffer' });
    expect(offer({ credentials: 'not-a-list' })).toBe(false);
  });

  it('its examples work with Try it out: each management example is accepted as sent (ids replaced by real ones)', async () => {
    const configurationId = (await issuer.client.createConfiguration()).id;
    const iacaId = (await issuer.client.createIaca()).id;
    const EXAMPLE_ID = /0195f3c2-8a4e-7c61-9d2b-3f6a1e5b7c90/g;
    let sent = 0;
    for (const { method, path, operation } of operationsOf(document) as { method: string; path: string; operation: Json }[]) {
      const example = operation.requestBody?.content?.['application/json']?.example;
      if (!example || !operation.security?.some((scheme: Json) => 'apiKey' in scheme) || path.includes('{') || path === '/v1/issuer/keys') continue;
      const id = path.includes('document-signers') ? iacaId : configurationId;
      const payload = JSON.parse(JSON.stringify(example).replace(EXAMPLE_ID, id));
      const response = await issuer.app.inject({ method: method.toUpperCase() as 'POST', url: path, headers: bearer(issuer.adminKey), payload });
      expect(response.statusCode, `${method} ${path} → ${response.body}`).toBeLessThan(300);
      expect(response.statusCode, `${method} ${path} → ${response.body}`).toBeGreaterThanOrEqual(200);
      sent++;
    }
    expect(sent).toBeGreaterThanOrEqual(7);
  });
});

describe('GET /', () => {
  it('points to the docs: JSON for clients, a redirect for browsers', async () => {
    const json = await issuer.app.inject('/');
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({
      name: 'vci-issuer',
      docs: '/docs',
      openapi: '/openapi.json',
      credentialIssuer: 'https://issuer.example.com',
      metadata: 'https://issuer.example.com/.well-known/openid-credential-issuer',
    });
    const browser = await issuer.app.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe('/docs');
    expect((await issuer.app.inject('/docs/')).statusCode).toBe(200);
  });
});

describe('DOCS=false', () => {
  it('serves neither /docs nor /openapi.json, and GET / no longer names them', async () => {
    const closed = await startTestIssuer({ env: { DOCS: 'false' } });
    try {
      for (const url of ['/docs', '/docs/', '/docs/static/index.html', '/openapi.json', '/docs/json']) {
        expect((await closed.app.inject(url)).statusCode, url).toBe(404);
      }
      const root = await closed.app.inject({ url: '/', headers: { accept: 'text/html' } });
      expect(root.statusCode).toBe(200);
      expect(root.json()).not.toHaveProperty('docs');
      expect(root.json()).not.toHaveProperty('openapi');
      expect((await closed.app.inject('/health/live')).statusCode).toBe(200);
    } finally {
      await closed.close();
    }
  });
});
