import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGURATIONS, MDOC_CONFIGURATIONS, type IssuerClient } from './support/client.js';
import { expectBadRequest } from './support/expectations.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { MDL_CONFIGURATION, MDL_DOCTYPE, MDL_NAMESPACE } from './support/mdoc.js';

// mso_mdoc configurations through MATTR VII's /v2/credentials/mobile/configurations.

let issuer: TestIssuer;
let api: IssuerClient;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
});
afterAll(() => issuer.close());

const DAY = 86_400_000;
let counter = 0;
/** A docType no other test of this file uses. */
const docType = () => `com.example.test.${++counter}.${randomUUID().slice(0, 8)}`;
const minimal = (extra: Record<string, unknown> = {}) => ({ type: docType(), claimMappings: { 'com.example.1': { name: { mapFrom: 'claims.name' } } }, ...extra });

describe('mDoc configurations: CRUD', () => {
  it('creates one in MATTR VII’s shape, defaults applied (type string, not required), and reads it back', async () => {
    const validFrom = new Date(Date.now() + DAY).toISOString();
    const validUntil = new Date(Date.now() + 300 * DAY).toISOString();
    const body = {
      type: docType(),
      name: 'Driving licence',
      description: 'An mDL',
      claimMappings: {
        [MDL_NAMESPACE]: {
          family_name: { mapFrom: 'claims.familyName', required: true, type: 'string' },
          birth_date: { mapFrom: 'claims.birthDate', type: 'date', defaultValue: '2000-01-01' },
          nickname: { mapFrom: 'claims.nickname' },
        },
      },
      expiresIn: { days: 30 },
      validFrom,
      validUntil,
      branding: { name: 'mDL', backgroundColor: '#003366' },
      includeStatus: true,
      statusListBits: 2,
    };
    const response = await api.post(MDOC_CONFIGURATIONS, body);
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json();
    expect(created).toEqual({
      ...body,
      id: expect.any(String),
      format: 'mso_mdoc',
      claimMappings: {
        [MDL_NAMESPACE]: {
          family_name: { mapFrom: 'claims.familyName', required: true, type: 'string' },
          birth_date: { mapFrom: 'claims.birthDate', required: false, type: 'date', defaultValue: '2000-01-01' },
          nickname: { mapFrom: 'claims.nickname', required: false, type: 'string' },
        },
      },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await api.get(`${MDOC_CONFIGURATIONS}/${created.id}`)).json()).toEqual(created);
    // Each format lists its own configurations only.
    expect((await api.get(`${MDOC_CONFIGURATIONS}?limit=1000`)).json().data.map((c: { id: string }) => c.id)).toContain(created.id);
    expect((await api.get(`${CONFIGURATIONS}?limit=1000`)).json().data.map((c: { id: string }) => c.id)).not.toContain(created.id);
    expect((await api.get(`${CONFIGURATIONS}/${created.id}`)).statusCode).toBe(404);
  });

  it('replaces with PUT and deletes with DELETE', async () => {
    const created = await api.createMdocConfiguration(minimal({ expiresIn: { days: 10 } }));
    const replaced = await api.put(`${MDOC_CONFIGURATIONS}/${created.id}`, { type: created.type, claimMappings: {} });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toEqual({
      id: created.id,
      format: 'mso_mdoc',
      type: created.type,
      claimMappings: {},
      includeStatus: false,
      statusListBits: 1,
      createdAt: created.createdAt,
      updatedAt: expect.any(String),
    });
    expect((await api.del(`${MDOC_CONFIGURATIONS}/${created.id}`)).statusCode).toBe(204);
    expect((await api.get(`${MDOC_CONFIGURATIONS}/${created.id}`)).statusCode).toBe(404);
  });

  it('the docType is unique among mDoc configurations: a second one is a 409 (on POST and PUT) and writes nothing', async () => {
    const first = await api.createMdocConfiguration(MDL_CONFIGURATION);
    const count = await issuer.tables.count('credential_configurations');
    const again = await api.post(MDOC_CONFIGURATIONS, MDL_CONFIGURATION);
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json()).toEqual({ code: 'Conflict', message: `An mso_mdoc configuration of type (docType) ${MDL_DOCTYPE} exists already` });
    const other = await api.createMdocConfiguration(minimal());
    expect((await api.put(`${MDOC_CONFIGURATIONS}/${other.id}`, { ...minimal(), type: MDL_DOCTYPE })).statusCode).toBe(409);
    expect(await issuer.tables.count('credential_configurations')).toBe(count + 1);
    // An SD-JWT VC configuration may carry the same string as its vct.
    expect((await api.post(CONFIGURATIONS, { type: MDL_DOCTYPE })).statusCode).toBe(201);
    // Freed when deleted.
    expect((await api.del(`${MDOC_CONFIGURATIONS}/${first.id}`)).statusCode).toBe(204);
    expect((await api.post(MDOC_CONFIGURATIONS, MDL_CONFIGURATION)).statusCode).toBe(201);
  });
});

describe('mDoc configurations: validation', () => {
  it('type is a docType of 1–1024 characters, not VerifiableCredential', async () => {
    for (const type of [undefined, '', 'x'.repeat(1025), 'VerifiableCredential', 42]) expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type }), ['type']);
    expect((await api.post(MDOC_CONFIGURATIONS, { type: `${'x'.repeat(1000)}${randomUUID()}`.slice(0, 1024) })).statusCode).toBe(201);
  });

  it('claimMappings are nested by namespace, with known types and a defaultValue of that type', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: { mapFrom: 'claims.name' } }, 'claimMappings.name.mapFrom'],
      [{ ns: { name: { mapFrom: 'name' } } }, 'claimMappings.ns.name.mapFrom'],
      [{ ns: { name: { mapFrom: 'claims.name', type: 'text' } } }, 'claimMappings.ns.name.type'],
      [{ ns: { born: { mapFrom: 'claims.born', type: 'date', defaultValue: '01/01/2000' } } }, 'claimMappings.ns.born.defaultValue'],
      [{ ns: { level: { mapFrom: 'claims.level', type: 'number', defaultValue: 1.5 } } }, 'claimMappings.ns.level.defaultValue'],
      [{ ns: { photo: { mapFrom: 'claims.photo', type: 'binary', defaultValue: '%%%' } } }, 'claimMappings.ns.photo.defaultValue'],
      [{ ns: { name: { mapFrom: 'claims.name', selectivelyDisclosable: true } } }, 'claimMappings.ns.name.selectivelyDisclosable'],
      [{ ns: { name: { mapFrom: 'claims.name', required: 'yes' } } }, 'claimMappings.ns.name.required'],
    ];
    for (const [claimMappings, param] of cases) expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: docType(), claimMappings }), [param]);
    for (const [claimMappings, param] of [
      [{ toString: { name: { mapFrom: 'claims.name' } } }, 'claimMappings.toString'],
      [{ ns: { constructor: { mapFrom: 'claims.name' } } }, 'claimMappings.ns.constructor'],
    ] as const) {
      const body = expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: docType(), claimMappings }), [param]);
      expect(body.details[0]!.msg).toMatch(/cannot be used as a claim name/);
    }
  });

  it('refuses what can never be valid: an mDL over 427 days, another docType over 3620, an end past or before its start', async () => {
    const future = (days: number) => new Date(Date.now() + days * DAY).toISOString();
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: 'org.iso.18013.5.1.mDL', expiresIn: { days: 428 } }), ['expiresIn']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: 'org.iso.18013.5.2.mDL', expiresIn: { months: 14 } }), ['expiresIn']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: docType(), expiresIn: { years: 10 } }), ['expiresIn']);
    expect((await api.post(MDOC_CONFIGURATIONS, { type: docType(), expiresIn: { years: 9 } })).statusCode).toBe(201);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: docType(), validUntil: future(-1) }), ['validUntil']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: docType(), validFrom: future(10), validUntil: future(5) }), ['validUntil']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: 'org.iso.18013.5.3.mDL', validUntil: future(500) }), ['validUntil']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, { type: docType(), validFrom: 'tomorrow' }), ['validFrom']);
    // A PUT is checked like a POST: a docType change can make the same validity too long.
    const created = await api.createMdocConfiguration({ type: docType(), expiresIn: { days: 1000 } });
    expectBadRequest(await api.put(`${MDOC_CONFIGURATIONS}/${created.id}`, { type: 'org.iso.18013.5.9.mDL', expiresIn: { days: 1000 } }), ['expiresIn']);
  });

  it('statusListBits is 1 or 2; unknown fields are refused', async () => {
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, minimal({ includeStatus: true, statusListBits: 4 })), ['statusListBits']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, minimal({ claimSourceId: randomUUID() })), ['claimSourceId']);
    expectBadRequest(await api.post(MDOC_CONFIGURATIONS, minimal({ format: 'mso_mdoc' })), ['format']);
  });
});

describe('mDoc configurations: roles', () => {
  it('issuer keys write, managed-issuer keys read only', async () => {
    const issuerKey = (await api.createKey('issuer')).key;
    const managedKey = (await api.createKey('managed-issuer')).key;
    const created = await api.post(MDOC_CONFIGURATIONS, minimal(), issuerKey);
    expect(created.statusCode).toBe(201);
    expect((await api.get(`${MDOC_CONFIGURATIONS}/${created.json().id}`, managedKey)).statusCode).toBe(200);
    expect((await api.post(MDOC_CONFIGURATIONS, minimal(), managedKey)).statusCode).toBe(403);
    expect((await api.del(`${MDOC_CONFIGURATIONS}/${created.json().id}`, managedKey)).statusCode).toBe(403);
  });
});
