import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { CONFIGURATIONS, OFFERS, type IssuerClient } from './support/client.js';
import { expectBadRequest } from './support/expectations.js';

let issuer: TestIssuer;
let api: IssuerClient;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
});
afterAll(() => issuer.close());

const TYPE = 'https://credentials.example.com/identity';
const full = {
  type: TYPE,
  name: 'Identity',
  description: 'A person identity credential',
  claimMappings: {
    given_name: { mapFrom: 'claims.givenName', required: true },
    family_name: { mapFrom: 'claims.familyName', selectivelyDisclosable: false },
    city: { mapFrom: 'claims.address.city', defaultValue: 'Unknown' },
    subject: { mapFrom: 'user.id', required: false, selectivelyDisclosable: true },
  },
  expiresIn: { years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 },
  branding: {
    name: 'Identity card',
    description: 'Issued by Example',
    backgroundColor: '#1A2b3C',
    textColor: '#ffffff',
    logo: { uri: 'https://issuer.example.com/logo.png', altText: 'Example logo' },
  },
};

/** POSTs `body` and expects a 400 naming exactly `expected`. */
async function rejects(body: unknown, expected: string[]) {
  const before = await issuer.tables.count('credential_configurations');
  const response = await api.post(CONFIGURATIONS, body);
  expectBadRequest(response, expected);
  expect(await issuer.tables.count('credential_configurations')).toBe(before);
  return response;
}

describe('credential configurations: CRUD', () => {
  it('creates a configuration with every field and returns it with defaults applied', async () => {
    const before = Date.now();
    const response = await api.post(CONFIGURATIONS, full);
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json();
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      format: 'dc+sd-jwt',
      type: TYPE,
      name: 'Identity',
      description: 'A person identity credential',
      claimMappings: {
        given_name: { mapFrom: 'claims.givenName', required: true, selectivelyDisclosable: true },
        family_name: { mapFrom: 'claims.familyName', required: false, selectivelyDisclosable: false },
        city: { mapFrom: 'claims.address.city', required: false, selectivelyDisclosable: true, defaultValue: 'Unknown' },
        subject: { mapFrom: 'user.id', required: false, selectivelyDisclosable: true },
      },
      expiresIn: full.expiresIn,
      branding: full.branding,
      includeStatus: false,
      statusListBits: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(Date.parse(created.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(created.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);

    const fetched = await api.get(`${CONFIGURATIONS}/${created.id}`);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json()).toEqual(created);

    const { rows } = await issuer.database.pool.query('SELECT type, name, claim_mappings, expires_in, branding FROM credential_configurations WHERE id = $1', [created.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: TYPE, name: 'Identity', expires_in: full.expiresIn, branding: full.branding });
  });

  it('accepts a minimal configuration (type only) with no mappings', async () => {
    const response = await api.post(CONFIGURATIONS, { type: 'urn:example:minimal' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ type: 'urn:example:minimal', claimMappings: {}, format: 'dc+sd-jwt' });
    for (const absent of ['name', 'description', 'expiresIn', 'branding']) expect(body).not.toHaveProperty(absent);
  });

  it('keeps defaultValue of any JSON type', async () => {
    const mappings = {
      a: { mapFrom: 'claims.a', defaultValue: 0 },
      b: { mapFrom: 'claims.b', defaultValue: false },
      c: { mapFrom: 'claims.c', defaultValue: { nested: ['x', 1] } },
      d: { mapFrom: 'claims.d', defaultValue: [1, 2] },
    };
    const created = await api.createConfiguration({ claimMappings: mappings });
    const fetched = (await api.get(`${CONFIGURATIONS}/${created.id}`)).json();
    for (const [name, mapping] of Object.entries(mappings)) expect(fetched.claimMappings[name].defaultValue).toEqual(mapping.defaultValue);
  });

  it('lists newest first with limit and an opaque cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.createConfiguration({ name: `page ${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `${CONFIGURATIONS}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await api.get(url);
      expect(response.statusCode).toBe(200);
      const page = response.json() as { data: { id: string }[]; nextCursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      expect(page.data.length).toBeGreaterThan(0);
      seen.push(...page.data.map((c) => c.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    const total = await issuer.tables.count('credential_configurations');
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 2));
    // Newest first: the five just created come first, in reverse order.
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());

    const all = (await api.get(CONFIGURATIONS)).json();
    expect(all.nextCursor).toBeNull();
    expect(all.data).toHaveLength(total);
  });

  it('rejects bad pagination parameters', async () => {
    expectBadRequest(await api.get(`${CONFIGURATIONS}?limit=0`), ['limit'], 'query');
    expectBadRequest(await api.get(`${CONFIGURATIONS}?limit=1001`), ['limit'], 'query');
    expectBadRequest(await api.get(`${CONFIGURATIONS}?limit=abc`), ['limit'], 'query');
    expectBadRequest(await api.get(`${CONFIGURATIONS}?cursor=not-a-cursor`), ['cursor'], 'query');
  });

  it('replaces a configuration with PUT (absent fields are removed)', async () => {
    const created = (await api.post(CONFIGURATIONS, full)).json();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const replacement = { type: 'https://credentials.example.com/v2', claimMappings: { email: { mapFrom: 'claims.email', required: true } } };
    const response = await api.put(`${CONFIGURATIONS}/${created.id}`, replacement);
    expect(response.statusCode, response.body).toBe(200);
    const updated = response.json();
    expect(updated).toMatchObject({
      id: created.id,
      type: 'https://credentials.example.com/v2',
      claimMappings: { email: { mapFrom: 'claims.email', required: true, selectivelyDisclosable: true } },
      createdAt: created.createdAt,
    });
    expect(Object.keys(updated.claimMappings)).toEqual(['email']);
    for (const absent of ['name', 'description', 'expiresIn', 'branding']) expect(updated).not.toHaveProperty(absent);
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect((await api.get(`${CONFIGURATIONS}/${created.id}`)).json()).toEqual(updated);
  });

  it('validates a PUT body like a POST body and changes nothing on error', async () => {
    const created = await api.createConfiguration({ name: 'unchanged' });
    expectBadRequest(await api.put(`${CONFIGURATIONS}/${created.id}`, { type: '' }), ['type']);
    expectBadRequest(await api.put(`${CONFIGURATIONS}/${created.id}`, { name: 'no type' }), ['type']);
    expectBadRequest(await api.put(`${CONFIGURATIONS}/${created.id}`, { type: 'x', claimMappings: { iss: { mapFrom: 'claims.iss' } } }), ['claimMappings.iss']);
    expect((await api.get(`${CONFIGURATIONS}/${created.id}`)).json()).toMatchObject({ name: 'unchanged', type: created.type });
  });

  it('deletes a configuration: 204, then 404 on every route', async () => {
    const created = await api.createConfiguration();
    const response = await api.del(`${CONFIGURATIONS}/${created.id}`);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    const { rows } = await issuer.database.pool.query('SELECT 1 FROM credential_configurations WHERE id = $1', [created.id]);
    expect(rows).toHaveLength(0);
    expect((await api.get(`${CONFIGURATIONS}/${created.id}`)).statusCode).toBe(404);
    expect((await api.del(`${CONFIGURATIONS}/${created.id}`)).statusCode).toBe(404);
  });

  it('answers 404 in the error shape for unknown ids, and 400 for ids that are not uuids', async () => {
    const unknown = randomUUID();
    for (const response of [
      await api.get(`${CONFIGURATIONS}/${unknown}`),
      await api.put(`${CONFIGURATIONS}/${unknown}`, { type: 'x' }),
      await api.del(`${CONFIGURATIONS}/${unknown}`),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ code: 'NotFound', message: expect.stringMatching(/configuration not found/i) });
    }
    expect(await issuer.tables.count('credential_configurations')).toBeGreaterThan(0);
    const { rows } = await issuer.database.pool.query('SELECT 1 FROM credential_configurations WHERE id = $1', [unknown]);
    expect(rows).toHaveLength(0);

    expectBadRequest(await api.get(`${CONFIGURATIONS}/not-a-uuid`), ['id'], 'params');
    expectBadRequest(await api.put(`${CONFIGURATIONS}/not-a-uuid`, { type: 'x' }), ['id'], 'params');
    expectBadRequest(await api.del(`${CONFIGURATIONS}/not-a-uuid`), ['id'], 'params');
  });
});

describe('credential configurations: field validation', () => {
  it('type: required string of 1–1024 characters', async () => {
    await rejects({}, ['type']);
    await rejects({ type: '' }, ['type']);
    await rejects({ type: 'x'.repeat(1025) }, ['type']);
    await rejects({ type: 42 }, ['type']);
    await rejects({ type: null }, ['type']);
    await rejects({ type: ['a'] }, ['type']);
    expect((await api.post(CONFIGURATIONS, { type: 'x' })).statusCode).toBe(201);
    const longest = await api.post(CONFIGURATIONS, { type: 'y'.repeat(1024) });
    expect(longest.statusCode).toBe(201);
    expect(longest.json().type).toHaveLength(1024);
  });

  it('name and description: strings within their lengths', async () => {
    await rejects({ type: 'x', name: '' }, ['name']);
    await rejects({ type: 'x', name: 'n'.repeat(201) }, ['name']);
    await rejects({ type: 'x', name: 5 }, ['name']);
    await rejects({ type: 'x', description: 'd'.repeat(1001) }, ['description']);
    await rejects({ type: 'x', description: {} }, ['description']);
    expect((await api.post(CONFIGURATIONS, { type: 'x', name: 'n'.repeat(200), description: 'd'.repeat(1000) })).statusCode).toBe(201);
  });

  it('claimMappings: mapFrom is "claims.<name>" (nested with dots) or "user.id"', async () => {
    for (const mapFrom of ['claims.given_name', 'claims.address.city', 'claims.a.b.c', 'user.id', 'claims.名前']) {
      const response = await api.post(CONFIGURATIONS, { type: 'x', claimMappings: { value: { mapFrom } } });
      expect(response.statusCode, mapFrom).toBe(201);
      expect(response.json().claimMappings.value.mapFrom).toBe(mapFrom);
    }
    for (const mapFrom of ['claims', 'claims.', 'claims..a', 'claims.a.', 'given_name', 'user.email', 'user', 'user.id.x', 'claims.a b', 'Claims.a', '.claims.a', '']) {
      await rejects({ type: 'x', claimMappings: { value: { mapFrom } } }, ['claimMappings.value.mapFrom']);
    }
    await rejects({ type: 'x', claimMappings: { value: { mapFrom: 42 } } }, ['claimMappings.value.mapFrom']);
    await rejects({ type: 'x', claimMappings: { value: {} } }, ['claimMappings.value.mapFrom']);
    await rejects({ type: 'x', claimMappings: { value: { mapFrom: `claims.${'a'.repeat(600)}` } } }, ['claimMappings.value.mapFrom']);
  });

  it('claimMappings: required and selectivelyDisclosable are booleans; other keys are refused', async () => {
    await rejects({ type: 'x', claimMappings: { v: { mapFrom: 'claims.v', required: 'yes' } } }, ['claimMappings.v.required']);
    await rejects({ type: 'x', claimMappings: { v: { mapFrom: 'claims.v', selectivelyDisclosable: 1 } } }, ['claimMappings.v.selectivelyDisclosable']);
    const unknown = await rejects({ type: 'x', claimMappings: { v: { mapFrom: 'claims.v', sd: true } } }, ['claimMappings.v.sd']);
    expect(JSON.stringify(unknown.json().details)).toContain('sd');
    await rejects({ type: 'x', claimMappings: { v: 'claims.v' } }, ['claimMappings.v']);
    await rejects({ type: 'x', claimMappings: ['claims.v'] }, ['claimMappings']);
    await rejects({ type: 'x', claimMappings: { '': { mapFrom: 'claims.v' } } }, ['claimMappings.']);
  });

  it('claimMappings: reserved SD-JWT VC claim names cannot be mapped', async () => {
    for (const name of ['vct', 'iss', 'cnf', 'iat', 'exp', 'nbf', 'status', '_sd', '_sd_alg', 'vct#integrity', '...']) {
      await rejects({ type: 'x', claimMappings: { [name]: { mapFrom: 'claims.value' } } }, [`claimMappings.${name}`]);
    }
    // Several at once: each is named.
    await rejects({ type: 'x', claimMappings: { vct: { mapFrom: 'claims.a' }, iss: { mapFrom: 'claims.b' }, ok: { mapFrom: 'claims.c' } } }, ['claimMappings.iss', 'claimMappings.vct']);
    // Close names are fine.
    expect((await api.post(CONFIGURATIONS, { type: 'x', claimMappings: { issuer: { mapFrom: 'claims.a' }, VCT: { mapFrom: 'claims.b' } } })).statusCode).toBe(201);
  });

  it('expiresIn: non-negative integers of the known units, at least one positive', async () => {
    for (const unit of ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds']) {
      const response = await api.post(CONFIGURATIONS, { type: 'x', expiresIn: { [unit]: 2 } });
      expect(response.statusCode, unit).toBe(201);
      expect(response.json().expiresIn).toEqual({ [unit]: 2 });
      await rejects({ type: 'x', expiresIn: { [unit]: 1.5 } }, [`expiresIn.${unit}`]);
      await rejects({ type: 'x', expiresIn: { [unit]: '1' } }, [`expiresIn.${unit}`]);
    }
    await rejects({ type: 'x', expiresIn: {} }, ['expiresIn']);
    await rejects({ type: 'x', expiresIn: { days: 0, hours: 0 } }, ['expiresIn']);
    expectBadRequest(await api.post(CONFIGURATIONS, { type: 'x', expiresIn: { days: -1, hours: 1 } }), ['expiresIn.days']);
    const unknownUnit = await rejects({ type: 'x', expiresIn: { fortnights: 1, days: 1 } }, ['expiresIn.fortnights']);
    expect(JSON.stringify(unknownUnit.json().details)).toContain('fortnights');
    await rejects({ type: 'x', expiresIn: 'P1Y' }, ['expiresIn']);
    await rejects({ type: 'x', expiresIn: 3600 }, ['expiresIn']);
  });

  it('branding: hex colours, a URL logo, known keys only', async () => {
    for (const colour of ['#000000', '#FFFFFF', '#1a2B3c']) {
      expect((await api.post(CONFIGURATIONS, { type: 'x', branding: { backgroundColor: colour, textColor: colour } })).statusCode, colour).toBe(201);
    }
    for (const colour of ['red', '#FFF', '#1234567', '123456', '#12345G', 'rgb(0,0,0)', '', 0]) {
      await rejects({ type: 'x', branding: { backgroundColor: colour } }, ['branding.backgroundColor']);
      await rejects({ type: 'x', branding: { textColor: colour } }, ['branding.textColor']);
    }
    for (const uri of ['not a url', '/relative/logo.png', '', 'javascript:alert(1)']) {
      await rejects({ type: 'x', branding: { logo: { uri } } }, ['branding.logo.uri']);
    }
    await rejects({ type: 'x', branding: { logo: { uri: `https://x.example/${'a'.repeat(2048)}` } } }, ['branding.logo.uri']);
    await rejects({ type: 'x', branding: { logo: {} } }, ['branding.logo.uri']);
    await rejects({ type: 'x', branding: { logo: { uri: 'https://x.example/l.png', altText: 'a'.repeat(501) } } }, ['branding.logo.altText']);
    await rejects({ type: 'x', branding: { name: '' } }, ['branding.name']);
    await rejects({ type: 'x', branding: { name: 'n'.repeat(201) } }, ['branding.name']);
    await rejects({ type: 'x', branding: { description: 'd'.repeat(1001) } }, ['branding.description']);
    const unknown = await rejects({ type: 'x', branding: { issuerLogo: 'https://x.example/l.png' } }, ['branding.issuerLogo']);
    expect(JSON.stringify(unknown.json().details)).toContain('issuerLogo');
    const unknownLogo = await rejects({ type: 'x', branding: { logo: { uri: 'https://x.example/l.png', width: 10 } } }, ['branding.logo.width']);
    expect(JSON.stringify(unknownLogo.json().details)).toContain('width');
    for (const uri of ['https://x.example/logo.svg', 'data:image/png;base64,iVBORw0KGgo=']) {
      expect((await api.post(CONFIGURATIONS, { type: 'x', branding: { logo: { uri } } })).statusCode, uri).toBe(201);
    }
  });

  it('rejects unknown top-level fields, naming them', async () => {
    const response = await rejects({ type: 'x', includeRevocation: true }, ['includeRevocation']);
    expect(response.json().details[0].msg).toContain('includeRevocation');
    await rejects({ type: 'x', includeStatus: true, statusListBits: 3 }, ['statusListBits']);
    await rejects({ type: 'x', format: 'mso_mdoc' }, ['format']);
  });

  it('names every malformed field at once', async () => {
    await rejects(
      {
        type: '',
        name: 1,
        claimMappings: { vct: { mapFrom: 'claims.v' }, a: { mapFrom: 'nope' } },
        expiresIn: { days: 1.5 },
        branding: { backgroundColor: 'blue', logo: { uri: 'nope' } },
      },
      ['type', 'name', 'claimMappings.vct', 'claimMappings.a.mapFrom', 'expiresIn.days', 'branding.backgroundColor', 'branding.logo.uri'],
    );
  });

  it('rejects a body that is not a JSON object', async () => {
    const array = await api.post(CONFIGURATIONS, '[]');
    expect(array.statusCode).toBe(400);
    expect(array.json().code).toBe('BadRequest');
  });
});

describe('credential configurations: deletion while offers use them', () => {
  it('409 while a pending, unexpired offer references it; allowed once the offer is revoked', async () => {
    const configuration = await api.createConfiguration();
    const other = await api.createConfiguration();
    const offer = await api.createOffer({ credentials: [other.id, configuration.id] });

    const blocked = await api.del(`${CONFIGURATIONS}/${configuration.id}`);
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toEqual({ code: 'Conflict', message: expect.any(String) });
    expect((await api.get(`${CONFIGURATIONS}/${configuration.id}`)).statusCode).toBe(200);
    // The configuration is still usable and still listed.
    expect((await api.get(CONFIGURATIONS)).json().data.map((c: { id: string }) => c.id)).toContain(configuration.id);

    expect((await api.del(`${OFFERS}/${offer.id}`)).statusCode).toBe(204);
    const allowed = await api.del(`${CONFIGURATIONS}/${configuration.id}`);
    expect(allowed.statusCode).toBe(204);
    expect((await api.get(`${CONFIGURATIONS}/${configuration.id}`)).statusCode).toBe(404);
  });

  it('allows deletion once the offer has expired', async () => {
    const configuration = await api.createConfiguration();
    const offer = await api.createOffer({ credentials: [configuration.id] });
    expect((await api.del(`${CONFIGURATIONS}/${configuration.id}`)).statusCode).toBe(409);
    await issuer.database.pool.query(`UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1`, [offer.id]);
    expect((await api.del(`${CONFIGURATIONS}/${configuration.id}`)).statusCode).toBe(204);
  });

  it('an offer for another configuration does not block deletion', async () => {
    const used = await api.createConfiguration();
    const unused = await api.createConfiguration();
    await api.createOffer({ credentials: [used.id] });
    expect((await api.del(`${CONFIGURATIONS}/${unused.id}`)).statusCode).toBe(204);
    expect((await api.del(`${CONFIGURATIONS}/${used.id}`)).statusCode).toBe(409);
  });

  it('PUT is allowed while an offer uses the configuration', async () => {
    const configuration = await api.createConfiguration({ name: 'before' });
    await api.createOffer({ credentials: [configuration.id] });
    const response = await api.put(`${CONFIGURATIONS}/${configuration.id}`, { type: configuration.type, name: 'after' });
    expect(response.statusCode).toBe(200);
    expect(response.json().name).toBe('after');
  });
});
