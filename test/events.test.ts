import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { CONFIGURATIONS, EVENTS, OFFERS, USERS, preAuthorizedCodeOf, type HttpResponse as Response, type IssuerClient } from './support/client.js';
import { expectBadRequest } from './support/expectations.js';

let issuer: TestIssuer;
let api: IssuerClient;
let auditorKey: string;
let issuerKey: { id: string; key: string };
let plain: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
  auditorKey = (await api.createKey('auditor')).key;
  issuerKey = await api.createKey('issuer');
  plain = (await api.createConfiguration()).id;
});
afterAll(() => issuer.close());

interface Event {
  id: string;
  type: string;
  category: string;
  timestamp: string;
  requestId: string | null;
  actor: string | null;
  data: Record<string, unknown>;
}

/** Every event of a request, oldest first, through the API. */
async function eventsOf(requestId: string): Promise<Event[]> {
  const response = await api.get(`${EVENTS}?limit=1000`, auditorKey);
  expect(response.statusCode).toBe(200);
  return (response.json().data as Event[]).filter((event) => event.requestId === requestId).reverse();
}

const typesOf = (events: Event[]) => events.map((event) => event.type);

/** Sends a request with a known X-Request-Id. */
async function tracked(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, key?: string): Promise<{ response: Response; requestId: string }> {
  const requestId = `test-${randomUUID()}`;
  const response = await api.call(method, url, payload, key ?? issuer.adminKey, { 'x-request-id': requestId });
  expect(response.headers['x-request-id']).toBe(requestId);
  return { response, requestId };
}

describe('events of management operations', () => {
  it('offer creation: START then SUCCESS, with the request id, the actor and no secret or claim value', async () => {
    const { response, requestId } = await tracked(
      'POST',
      OFFERS,
      { credentials: [plain], claims: { secretClaim: 'claim-value-9f8e7d' }, claimsToPersist: ['secretClaim'], transactionCodeConfiguration: { length: 10 } },
      issuerKey.key,
    );
    expect(response.statusCode).toBe(201);
    const offer = response.json();
    const events = await eventsOf(requestId);
    expect(typesOf(events)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_CREATE_START', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS']);
    for (const event of events) {
      expect(event).toEqual({ id: expect.any(String), type: expect.any(String), category: 'OpenId', timestamp: expect.any(String), requestId, actor: issuerKey.id, data: expect.any(Object) });
    }
    expect(Date.parse(events[0]!.timestamp)).toBeLessThanOrEqual(Date.parse(events[1]!.timestamp));
    expect(events[1]!.data).toMatchObject({ offerId: offer.id, userId: offer.userId, credentialConfigurationIds: [plain], transactionCodeRequired: true });
    const text = JSON.stringify(events);
    expect(text).not.toContain('claim-value-9f8e7d');
    expect(text).not.toContain(String(offer.transactionCode));
    expect(text).not.toContain(preAuthorizedCodeOf(offer.uri));
  });

  it('offer creation failing validation: START then FAIL, no SUCCESS', async () => {
    const { response, requestId } = await tracked('POST', OFFERS, { credentials: [plain], claims: { a: 'claim-value-1a2b3c' }, claimsToPersist: ['b'] });
    expect(response.statusCode).toBe(400);
    const events = await eventsOf(requestId);
    expect(typesOf(events)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_CREATE_START', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_FAIL']);
    expect(events[1]).toMatchObject({ category: 'OpenId', actor: 'env:ADMIN_API_KEY', data: { status: 400 } });
    expect(JSON.stringify(events)).not.toContain('claim-value-1a2b3c');
  });

  it('offer creation failing inside the transaction (unknown user, missing claims): START then FAIL', async () => {
    const required = (await api.createConfiguration({ claimMappings: { name: { mapFrom: 'claims.name', required: true } } })).id;
    for (const body of [
      { credentials: [plain], userId: randomUUID() },
      { credentials: [randomUUID()] },
      { credentials: [required], claims: { other: 'claim-value-55aa66' } },
      { credentials: [plain], expiresIn: { minutes: 60 } },
    ]) {
      const { response, requestId } = await tracked('POST', OFFERS, body);
      expect(response.statusCode).toBe(400);
      const events = await eventsOf(requestId);
      expect(typesOf(events), JSON.stringify(body)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_CREATE_START', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_FAIL']);
      expect(events[1]!.data).toMatchObject({ status: 400 });
      expect(JSON.stringify(events)).not.toContain('claim-value-55aa66');
    }
  });

  it('offer deletion: DELETE START/SUCCESS, and FAIL for an unknown offer', async () => {
    const offer = await api.createOffer({ credentials: [plain] });
    const ok = await tracked('DELETE', `${OFFERS}/${offer.id}`);
    expect(ok.response.statusCode).toBe(204);
    const events = await eventsOf(ok.requestId);
    expect(typesOf(events)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_DELETE_START', 'OPENID_PRE_AUTHORIZED_OFFER_DELETE_SUCCESS']);
    expect(events[1]!.data).toEqual({ offerId: offer.id });
    const missing = await tracked('DELETE', `${OFFERS}/${randomUUID()}`);
    expect(missing.response.statusCode).toBe(404);
    const failed = await eventsOf(missing.requestId);
    expect(typesOf(failed)).toEqual(['OPENID_PRE_AUTHORIZED_OFFER_DELETE_START', 'OPENID_PRE_AUTHORIZED_OFFER_DELETE_FAIL']);
    expect(failed[1]!.data).toMatchObject({ status: 404 });
  });

  it('credential configurations: CREATE, UPDATE, DELETE with START/SUCCESS or START/FAIL', async () => {
    const create = await tracked('POST', CONFIGURATIONS, { type: 'urn:events', claimMappings: { a: { mapFrom: 'claims.a', defaultValue: 'default-7c7c' } } });
    expect(create.response.statusCode).toBe(201);
    const id = create.response.json().id;
    const created = await eventsOf(create.requestId);
    expect(typesOf(created)).toEqual(['CREDENTIAL_CONFIGURATION_CREATE_START', 'CREDENTIAL_CONFIGURATION_CREATE_SUCCESS']);
    expect(created.every((event) => event.category === 'CredentialConfiguration')).toBe(true);
    expect(created[1]!.data).toEqual({ configurationId: id, type: 'urn:events' });

    const update = await tracked('PUT', `${CONFIGURATIONS}/${id}`, { type: 'urn:events:v2' });
    expect(typesOf(await eventsOf(update.requestId))).toEqual(['CREDENTIAL_CONFIGURATION_UPDATE_START', 'CREDENTIAL_CONFIGURATION_UPDATE_SUCCESS']);
    const invalid = await tracked('POST', CONFIGURATIONS, { type: '' });
    expect(typesOf(await eventsOf(invalid.requestId))).toEqual(['CREDENTIAL_CONFIGURATION_CREATE_START', 'CREDENTIAL_CONFIGURATION_CREATE_FAIL']);
    const updateMissing = await tracked('PUT', `${CONFIGURATIONS}/${randomUUID()}`, { type: 'x' });
    expect(typesOf(await eventsOf(updateMissing.requestId))).toEqual(['CREDENTIAL_CONFIGURATION_UPDATE_START', 'CREDENTIAL_CONFIGURATION_UPDATE_FAIL']);

    await api.createOffer({ credentials: [id] });
    const conflict = await tracked('DELETE', `${CONFIGURATIONS}/${id}`);
    expect(conflict.response.statusCode).toBe(409);
    const conflictEvents = await eventsOf(conflict.requestId);
    expect(typesOf(conflictEvents)).toEqual(['CREDENTIAL_CONFIGURATION_DELETE_START', 'CREDENTIAL_CONFIGURATION_DELETE_FAIL']);
    expect(conflictEvents[1]!.data).toMatchObject({ status: 409 });

    const other = await api.createConfiguration();
    const del = await tracked('DELETE', `${CONFIGURATIONS}/${other.id}`);
    expect(del.response.statusCode).toBe(204);
    const deleted = await eventsOf(del.requestId);
    expect(typesOf(deleted)).toEqual(['CREDENTIAL_CONFIGURATION_DELETE_START', 'CREDENTIAL_CONFIGURATION_DELETE_SUCCESS']);
    expect(deleted[1]!.data).toEqual({ configurationId: other.id });
  });

  it('users: CREATE, UPDATE, DELETE; data holds the id, never a claim value', async () => {
    const create = await tracked('POST', USERS, { claims: { email: 'claim-value-ada@example.com' } }, issuerKey.key);
    expect(create.response.statusCode).toBe(201);
    const id = create.response.json().id;
    const created = await eventsOf(create.requestId);
    expect(typesOf(created)).toEqual(['USER_CREATE_START', 'USER_CREATE_SUCCESS']);
    expect(created[1]).toMatchObject({ category: 'User', actor: issuerKey.id, data: { userId: id } });

    const update = await tracked('PUT', `${USERS}/${id}`, { claims: { email: 'claim-value-lovelace@example.com' } });
    const updated = await eventsOf(update.requestId);
    expect(typesOf(updated)).toEqual(['USER_UPDATE_START', 'USER_UPDATE_SUCCESS']);
    expect(updated[1]!.data).toEqual({ userId: id });

    const del = await tracked('DELETE', `${USERS}/${id}`);
    expect(typesOf(await eventsOf(del.requestId))).toEqual(['USER_DELETE_START', 'USER_DELETE_SUCCESS']);
    const again = await tracked('DELETE', `${USERS}/${id}`);
    const failed = await eventsOf(again.requestId);
    expect(typesOf(failed)).toEqual(['USER_DELETE_START', 'USER_DELETE_FAIL']);
    expect(failed[1]!.data).toMatchObject({ status: 404 });
    const invalid = await tracked('POST', USERS, { claims: 'claim-value-not-an-object' });
    expect(typesOf(await eventsOf(invalid.requestId))).toEqual(['USER_CREATE_START', 'USER_CREATE_FAIL']);

    const rows = await issuer.tables.eventRows();
    expect(JSON.stringify(rows)).not.toContain('claim-value-');
  });

  it('event ids are UUIDv7 carrying the time they were recorded, so new events append to the primary key', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { response, requestId } = await tracked('POST', USERS, { claims: { n: String(i) } }, issuerKey.key);
      expect(response.statusCode).toBe(201);
      for (const event of await eventsOf(requestId)) {
        expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        const idMs = parseInt(event.id.replaceAll('-', '').slice(0, 12), 16);
        // Two clock_timestamp() calls of one statement: apart by far less than this on any machine.
        expect(Math.abs(idMs - Date.parse(event.timestamp))).toBeLessThan(50);
        ids.push(event.id);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(ids).toHaveLength(6);
    // Their time prefixes never go back (within one millisecond the random bits decide the order).
    const prefixes = ids.map((id) => id.slice(0, 13));
    expect([...prefixes].sort()).toEqual(prefixes);
  });

  it('API keys: CREATE and DELETE, never the key itself', async () => {
    const create = await tracked('POST', '/v1/api-keys', { name: 'short-lived', role: 'issuer' });
    expect(create.response.statusCode).toBe(201);
    const { id, key } = create.response.json();
    const created = await eventsOf(create.requestId);
    expect(typesOf(created)).toEqual(['API_KEY_CREATE_START', 'API_KEY_CREATE_SUCCESS']);
    expect(created[1]).toMatchObject({ category: 'ApiKey', data: { apiKeyId: id, role: 'issuer' } });
    const del = await tracked('DELETE', `/v1/api-keys/${id}`);
    expect(del.response.statusCode).toBe(204);
    const deleted = await eventsOf(del.requestId);
    expect(typesOf(deleted)).toEqual(['API_KEY_DELETE_START', 'API_KEY_DELETE_SUCCESS']);
    expect(deleted[1]!.data).toEqual({ apiKeyId: id });
    expect(JSON.stringify(await issuer.tables.eventRows())).not.toContain(key);
  });

  it('reads record no events; a request without a valid key records none either', async () => {
    const before = await issuer.tables.count('events');
    await api.get(USERS);
    await api.get(OFFERS);
    await api.get(CONFIGURATIONS);
    await api.post(`${USERS}/search`, { claims: {} });
    await api.post(USERS, { claims: {} }, null);
    await api.post(OFFERS, { credentials: [plain] }, 'vci_wrong');
    expect(await issuer.tables.count('events')).toBe(before);
  });

  it('a forbidden change records FAIL under the caller', async () => {
    const { key, id } = await api.createKey('auditor', 'nosy');
    const { response, requestId } = await tracked('POST', USERS, { claims: {} }, key);
    expect(response.statusCode).toBe(403);
    const events = await eventsOf(requestId);
    expect(typesOf(events)).toEqual(['USER_CREATE_START', 'USER_CREATE_FAIL']);
    expect(events[1]).toMatchObject({ actor: id, data: { status: 403 } });
  });

  it('records exactly one SUCCESS per committed change', async () => {
    const before = (await issuer.tables.eventRows(`type = 'USER_CREATE_SUCCESS'`)).length;
    const ids: string[] = [];
    await Promise.all(Array.from({ length: 8 }, async () => ids.push((await api.createUser({ n: 1 })).id)));
    const after = await issuer.tables.eventRows(`type = 'USER_CREATE_SUCCESS'`);
    expect(after.length - before).toBe(8);
    expect(after.slice(before).map((e) => e.data.userId).sort()).toEqual(ids.sort());
  });
});

describe('GET /v1/analytics/events', () => {
  const list = async (query: string, key = auditorKey) => {
    const response = await api.get(`${EVENTS}${query}`, key);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { data: Event[]; nextCursor: string | null };
  };

  it('lists newest first in the event shape', async () => {
    for (let i = 0; i < 10; i++) await api.createUser();
    const page = await list('?limit=1000');
    const { rows } = await issuer.database.pool.query<{ id: string }>('SELECT id FROM events ORDER BY seq DESC');
    expect(page.data.map((e) => e.id)).toEqual(rows.map((r) => r.id));
    for (const event of page.data) expect(Object.keys(event).sort()).toEqual(['actor', 'category', 'data', 'id', 'requestId', 'timestamp', 'type']);
    // The events of the sequential requests just made are in time order too.
    for (let i = 1; i < 20; i++) expect(Date.parse(page.data[i - 1]!.timestamp)).toBeGreaterThanOrEqual(Date.parse(page.data[i]!.timestamp));
    expect(page.data[0]!.type).toBe('USER_CREATE_SUCCESS');
    expect(page.data[1]!.type).toBe('USER_CREATE_START');
  });

  it('timestamps come from the database clock: the list never goes back in time, even when an instance clock lags or stalls', async () => {
    const realStart = Date.now();
    await api.createUser();
    // This instance's clock is a minute behind the others' (or the database's), and stands still.
    vi.useFakeTimers({ toFake: ['Date'], now: realStart - 60_000 });
    try {
      await api.createUser();
      await api.createUser();
    } finally {
      vi.useRealTimers();
    }
    const page = await list('?limit=6');
    expect(typesOf(page.data)).toEqual(Array.from({ length: 3 }, () => ['USER_CREATE_SUCCESS', 'USER_CREATE_START']).flat());
    const times = page.data.map((e) => Date.parse(e.timestamp));
    for (let i = 1; i < times.length; i++) expect(times[i - 1], JSON.stringify(page.data.map((e) => [e.type, e.timestamp]))).toBeGreaterThanOrEqual(times[i]!);
    for (const time of times) expect(time).toBeGreaterThanOrEqual(realStart - 1000);
  });

  it('filters by types and categories (comma-separated)', async () => {
    await api.createUser();
    await api.createOffer({ credentials: [plain] });
    const one = await list('?types=USER_CREATE_SUCCESS&limit=1000');
    expect(one.data.length).toBe((await issuer.tables.eventRows(`type = 'USER_CREATE_SUCCESS'`)).length);
    expect(new Set(one.data.map((e) => e.type))).toEqual(new Set(['USER_CREATE_SUCCESS']));
    const two = await list(`?types=${encodeURIComponent('USER_CREATE_SUCCESS, OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS')}&limit=1000`);
    expect(new Set(two.data.map((e) => e.type))).toEqual(new Set(['USER_CREATE_SUCCESS', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS']));
    expect(two.data.length).toBe((await issuer.tables.eventRows(`type IN ('USER_CREATE_SUCCESS', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS')`)).length);

    const users = await list('?categories=User&limit=1000');
    expect(users.data.length).toBe((await issuer.tables.eventRows(`category = 'User'`)).length);
    expect(users.data.every((e) => e.category === 'User')).toBe(true);
    const both = await list('?categories=User,OpenId&limit=1000');
    expect(new Set(both.data.map((e) => e.category))).toEqual(new Set(['User', 'OpenId']));
    const combined = await list('?categories=OpenId&types=USER_CREATE_SUCCESS');
    expect(combined.data).toEqual([]);
    expect((await list('?types=NO_SUCH_EVENT')).data).toEqual([]);
  });

  it('filters by dateFrom and dateTo, both inclusive', async () => {
    const tracked1 = `date-${randomUUID()}`;
    const tracked2 = `date-${randomUUID()}`;
    await api.post(USERS, { claims: {} }, undefined, { 'x-request-id': tracked1 });
    await api.post(USERS, { claims: {} }, undefined, { 'x-request-id': tracked2 });
    const pool = issuer.database.pool;
    await pool.query(`UPDATE events SET timestamp = '2001-02-03T04:05:06.000Z' WHERE request_id = $1`, [tracked1]);
    await pool.query(`UPDATE events SET timestamp = '2001-02-05T00:00:00.000Z' WHERE request_id = $1`, [tracked2]);
    const ids = async (query: string) => (await list(`${query}&limit=1000`)).data.map((e) => e.requestId);

    expect(await ids('?dateFrom=2001-02-03T00:00:00Z&dateTo=2001-02-04T00:00:00Z')).toEqual([tracked1, tracked1]);
    expect(await ids('?dateFrom=2001-02-03T04:05:06.000Z&dateTo=2001-02-03T04:05:06.000Z')).toEqual([tracked1, tracked1]);
    expect(await ids(`?dateFrom=${encodeURIComponent('2001-02-03T05:05:06+01:00')}&dateTo=2001-02-03T04:05:06Z`)).toEqual([tracked1, tracked1]);
    expect(await ids('?dateFrom=2001-01-01T00:00:00Z&dateTo=2001-12-31T00:00:00Z')).toEqual([tracked2, tracked2, tracked1, tracked1]);
    expect(await ids('?dateFrom=2001-02-03T04:05:06.001Z&dateTo=2001-02-04T00:00:00Z')).toEqual([]);
    expect(await ids('?dateTo=2001-02-03T04:05:05.999Z')).toEqual([]);
    const recent = await ids('?dateFrom=2002-01-01T00:00:00Z');
    expect(recent).not.toContain(tracked1);
    expect(recent.length).toBe((await issuer.tables.count('events')) - 4);

    expectBadRequest(await api.get(`${EVENTS}?dateFrom=yesterday`, auditorKey), ['dateFrom'], 'query');
    expectBadRequest(await api.get(`${EVENTS}?dateTo=2001-02-03`, auditorKey), ['dateTo'], 'query');
  });

  it('pages with limit and cursor, stable under filters', async () => {
    for (let i = 0; i < 5; i++) await api.createUser();
    const expected = (await issuer.tables.eventRows(`category = 'User'`)).reverse();
    const seen: Event[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Event[]; nextCursor: string | null } = await list(`?categories=User&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.type)).toEqual(expected.map((e) => e.type));
    expect(seen.map((e) => e.requestId)).toEqual(expected.map((e) => e.request_id));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);

    expect((await list('?limit=1')).data).toHaveLength(1);
    expectBadRequest(await api.get(`${EVENTS}?limit=0`, auditorKey), ['limit'], 'query');
    expectBadRequest(await api.get(`${EVENTS}?limit=1001`, auditorKey), ['limit'], 'query');
    expectBadRequest(await api.get(`${EVENTS}?cursor=xyz`, auditorKey), ['cursor'], 'query');
  });
});

describe('one commit per request', () => {
  /** Makes inserting an event of `type` fail, at the end of the request's transaction. */
  async function failOn<T>(type: string, run: () => Promise<T>): Promise<T> {
    const pool = issuer.database.pool;
    await pool.query(`CREATE OR REPLACE FUNCTION raise_exception() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'forced failure inserting % (secret internals)', NEW.type; END $$`);
    await pool.query(`CREATE TRIGGER forced_failure BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.type = '${type}') EXECUTE FUNCTION raise_exception()`);
    try {
      return await run();
    } finally {
      await pool.query('DROP TRIGGER forced_failure ON events');
    }
  }

  function expectInternalError(response: Response) {
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'InternalServerError', message: expect.any(String) });
    const { message } = response.json() as { message: string };
    expect(message).not.toMatch(/forced|internals|trigger|events|raise|sql|stack|P0001|\bat\b/i);
    expect(response.body).not.toMatch(/forced failure|secret internals|raise_exception/);
  }

  const count = (type: string, requestId: string) => issuer.tables.eventRows('type = $1 AND request_id = $2', [type, requestId]).then((rows) => rows.length);

  it('the trigger works: it fails exactly the targeted event', async () => {
    await failOn('USER_CREATE_SUCCESS', async () => {
      expect((await api.post(CONFIGURATIONS, { type: 'unaffected' })).statusCode).toBe(201);
      expect((await api.post(USERS, { claims: {} })).statusCode).toBe(500);
    });
    expect((await api.post(USERS, { claims: {} })).statusCode).toBe(201);
  });

  it('user creation: a failure at commit leaves no user and no SUCCESS event, but a FAIL event', async () => {
    const before = await issuer.tables.counts();
    const requestId = `one-commit-${randomUUID()}`;
    const response = await failOn('USER_CREATE_SUCCESS', () => api.post(USERS, { claims: { marker: requestId } }, undefined, { 'x-request-id': requestId }));
    expectInternalError(response);
    expect(await issuer.tables.counts()).toEqual(before);
    expect((await issuer.database.pool.query(`SELECT 1 FROM users WHERE claims @> $1`, [JSON.stringify({ marker: requestId })])).rows).toHaveLength(0);
    expect(await count('USER_CREATE_SUCCESS', requestId)).toBe(0);
    expect(await count('USER_CREATE_START', requestId)).toBe(1);
    expect(await count('USER_CREATE_FAIL', requestId)).toBe(1);
    const [fail] = await issuer.tables.eventRows(`type = 'USER_CREATE_FAIL' AND request_id = $1`, [requestId]);
    expect(fail!.data).toMatchObject({ status: 500 });
    expect(JSON.stringify(fail!.data)).not.toMatch(/forced|internals/);
    expect(issuer.logs.some((line) => line.includes(requestId) && line.includes('forced failure'))).toBe(true);
  });

  it('user update and deletion roll back too', async () => {
    const user = await api.createUser({ name: 'before' });
    const update = await failOn('USER_UPDATE_SUCCESS', () => api.put(`${USERS}/${user.id}`, { claims: { name: 'after' } }));
    expectInternalError(update);
    expect((await api.get(`${USERS}/${user.id}`)).json().claims).toEqual({ name: 'before' });
    const del = await failOn('USER_DELETE_SUCCESS', () => api.del(`${USERS}/${user.id}`));
    expectInternalError(del);
    expect((await api.get(`${USERS}/${user.id}`)).statusCode).toBe(200);
  });

  it('offer creation: no offer, no new user, no persisted claims, no SUCCESS event', async () => {
    const existing = await api.createUser({ givenName: 'Unchanged' });
    for (const body of [
      { credentials: [plain], claims: { givenName: 'New' }, claimsToPersist: ['givenName'], transactionCodeConfiguration: {} },
      { credentials: [plain], userId: existing.id, claims: { givenName: 'Changed' }, claimsToPersist: ['givenName'] },
    ]) {
      const before = await issuer.tables.counts();
      const requestId = `one-commit-${randomUUID()}`;
      const response = await failOn('OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS', () => api.post(OFFERS, body, undefined, { 'x-request-id': requestId }));
      expectInternalError(response);
      expect(await issuer.tables.counts()).toEqual(before);
      expect(await count('OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS', requestId)).toBe(0);
      expect(await count('OPENID_PRE_AUTHORIZED_OFFER_CREATE_START', requestId)).toBe(1);
      expect(await count('OPENID_PRE_AUTHORIZED_OFFER_CREATE_FAIL', requestId)).toBe(1);
    }
    expect((await api.get(`${USERS}/${existing.id}`)).json().claims).toEqual({ givenName: 'Unchanged' });
  });

  it('offer revocation and configuration changes roll back too', async () => {
    const offer = await api.createOffer({ credentials: [plain] });
    expectInternalError(await failOn('OPENID_PRE_AUTHORIZED_OFFER_DELETE_SUCCESS', () => api.del(`${OFFERS}/${offer.id}`)));
    expect((await api.get(`${OFFERS}/${offer.id}`)).json().status).toBe('pending');

    const configuration = await api.createConfiguration({ name: 'before' });
    expectInternalError(await failOn('CREDENTIAL_CONFIGURATION_UPDATE_SUCCESS', () => api.put(`${CONFIGURATIONS}/${configuration.id}`, { type: 'x', name: 'after' })));
    expect((await api.get(`${CONFIGURATIONS}/${configuration.id}`)).json().name).toBe('before');
    expectInternalError(await failOn('CREDENTIAL_CONFIGURATION_DELETE_SUCCESS', () => api.del(`${CONFIGURATIONS}/${configuration.id}`)));
    expect((await api.get(`${CONFIGURATIONS}/${configuration.id}`)).statusCode).toBe(200);
    const before = await issuer.tables.count('credential_configurations');
    expectInternalError(await failOn('CREDENTIAL_CONFIGURATION_CREATE_SUCCESS', () => api.post(CONFIGURATIONS, { type: 'never' })));
    expect(await issuer.tables.count('credential_configurations')).toBe(before);
  });

  it('a failure of the START event rolls back as well', async () => {
    const before = await issuer.tables.counts();
    const requestId = `one-commit-${randomUUID()}`;
    expectInternalError(await failOn('USER_CREATE_START', () => api.post(USERS, { claims: {} }, undefined, { 'x-request-id': requestId })));
    expect(await issuer.tables.counts()).toEqual(before);
    expect(await count('USER_CREATE_SUCCESS', requestId)).toBe(0);
  });
});
