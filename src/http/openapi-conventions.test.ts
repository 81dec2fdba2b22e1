import { describe, expect, it } from 'vitest';
import { defaultResponseDescription, hoistRequestExamples, mergeDuplicateSchemas, operationIdFor, promoteSharedSchemas } from './openapi-conventions.js';

describe('operationIdFor', () => {
  it('is the method and the path without versions, path parameters as By<Name>', () => {
    expect(operationIdFor('POST', '/v1/openid/offers/pre-authorized')).toBe('postOpenidOffersPreAuthorized');
    expect(operationIdFor('GET', '/v1/openid/offers/pre-authorized/:id/qrcode')).toBe('getOpenidOffersPreAuthorizedByIdQrcode');
    expect(operationIdFor('DELETE', '/v2/credentials/sd-jwt/:credentialId')).toBe('deleteCredentialsSdJwtByCredentialId');
    expect(operationIdFor('GET', '/.well-known/openid-credential-issuer/tenant')).toBe('getWellKnownOpenidCredentialIssuerTenant');
    expect(operationIdFor('GET', '/')).toBe('get');
  });
});

describe('defaultResponseDescription', () => {
  it('says what a code means for the kind of route', () => {
    expect(defaultResponseDescription('401', 'management')).toMatch(/API key/);
    expect(defaultResponseDescription('401', 'wallet')).toMatch(/access token/);
    expect(defaultResponseDescription('415', 'wallet')).toMatch(/content type/);
    expect(defaultResponseDescription('299', 'public')).toBe('Success');
  });
});

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe('mergeDuplicateSchemas', () => {
  it('points requests at X where XInput is the same, renames a lone XInput, and drops what nothing reaches', () => {
    const document = {
      paths: {
        '/a': { post: { requestBody: { content: { 'application/json': { schema: ref('AInput') } } }, responses: { 200: { content: { 'application/json': { schema: ref('A') } } } } } },
        '/b': { post: { requestBody: { content: { 'application/json': { schema: ref('BInput') } } } } },
      },
      components: {
        schemas: {
          A: { type: 'object', properties: { inner: ref('Inner') } },
          AInput: { type: 'object', properties: { inner: ref('InnerInput') } },
          Inner: { type: 'string' },
          InnerInput: { type: 'string' },
          B: { type: 'object', required: ['x'] },
          BInput: { type: 'object' },
          Unused: { type: 'number' },
        },
      },
    };
    const merged = mergeDuplicateSchemas(document);
    expect(Object.keys((merged.components as { schemas: object }).schemas).sort()).toEqual(['A', 'B', 'Inner']);
    expect(JSON.stringify(merged.paths)).not.toMatch(/Input/);
    // B's own output schema differed, but nothing used it: the request's schema takes the plain name.
    expect((merged.components as { schemas: Record<string, unknown> }).schemas.B).toEqual({ type: 'object' });
  });
});

describe('promoteSharedSchemas', () => {
  it('turns zod\'s __shared definitions into components, the same definition once', () => {
    const shared = (name: string) => ({ $ref: `#/components/schemas/__shared#/$defs/${name}` });
    const json = (self: string) => ({
      anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }, { type: 'array', items: shared(self) }, { type: 'object', additionalProperties: shared(self) }],
    });
    const document = {
      paths: { '/a': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'array', items: [shared('schema0'), shared('schema1')] } } } } } } } },
      components: { schemas: { __shared: { $defs: { schema0: json('schema0'), schema1: json('schema1') } } } },
    };
    const promoted = promoteSharedSchemas(document);
    expect(Object.keys((promoted.components as { schemas: object }).schemas)).toEqual(['JsonValue']);
    expect(JSON.stringify(promoted)).not.toMatch(/__shared/);
    expect(JSON.stringify(promoted.paths)).toContain('"#/components/schemas/JsonValue"');
  });
});

describe('hoistRequestExamples', () => {
  it('copies a named schema\'s first example to the request body, where Swagger UI reads it', () => {
    const media: Record<string, unknown> = { schema: ref('A') };
    hoistRequestExamples({ paths: { '/a': { post: { requestBody: { content: { 'application/json': media } } } } }, components: { schemas: { A: { examples: [{ a: 1 }, { a: 2 }] } } } });
    expect(media.example).toEqual({ a: 1 });
  });
});
