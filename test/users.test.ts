import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { USERS, type IssuerClient } from './support/client.js';
import { expectBadRequest } from './support/expectations.js';

let issuer: TestIssuer;
let api: IssuerClient;
beforeAll(async () => {
  issuer = await startTestIssuer();
  api = issuer.client;
});
afterAll(() => issuer.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Page {
  data: { id: string; claims: Record<string, unknown> }[];
  nextCursor: string | null;
}

async function search(body: Record<string, unknown>): Promise<Page> {
  const response = await api.post(`${USERS}/search`, body);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Page;
}

/** Follows nextCursor through every page of a search. */
async function searchAll(claims: Record<string, unknown>, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Page = await search({ claims, limit, ...(cursor && { cursor }) });
    expect(page.data.length).toBeLessThanOrEqual(limit);
    ids.push(...page.data.map((u) => u.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

describe('users: CRUD', () => {
  it('creates a user with claims of any JSON type and reads it back', async () => {
    const claims = { givenName: 'Ada', age: 36, verified: true, address: { city: 'London', lines: ['12 St James Sq'] }, nickname: null };
    const response = await api.post(USERS, { claims });
    expect(response.statusCode, response.body).toBe(201);
    const user = response.json();
    expect(user).toEqual({ id: expect.stringMatching(UUID), claims });

    const fetched = await api.get(`${USERS}/${user.id}`);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json()).toEqual({ id: user.id, claims });

    const { rows } = await issuer.database.pool.query('SELECT claims FROM users WHERE id = $1', [user.id]);
    expect(rows).toEqual([{ claims }]);
  });

  it('creates a user with no claims', async () => {
    const empty = await api.post(USERS, {});
    expect(empty.statusCode).toBe(201);
    expect(empty.json()).toEqual({ id: expect.stringMatching(UUID), claims: {} });
    const explicit = await api.post(USERS, { claims: {} });
    expect(explicit.statusCode).toBe(201);
    expect(explicit.json().id).not.toBe(empty.json().id);
  });

  it('validates the body and writes nothing on error', async () => {
    const before = await issuer.tables.count('users');
    expectBadRequest(await api.post(USERS, { claims: 'Ada' }), ['claims']);
    expectBadRequest(await api.post(USERS, { claims: ['Ada'] }), ['claims']);
    expectBadRequest(await api.post(USERS, { claims: null }), ['claims']);
    expectBadRequest(await api.post(USERS, { claims: { '': 'empty name' } }), ['claims.']);
    expectBadRequest(await api.post(USERS, { claims: { ['n'.repeat(257)]: 1 } }), [`claims.${'n'.repeat(257)}`]);
    const unknown = expectBadRequest(await api.post(USERS, { claims: {}, id: randomUUID() }), ['id']);
    expect(unknown.details[0]!.msg).toContain('id');
    expect(await issuer.tables.count('users')).toBe(before);
  });

  it('replaces claims with PUT (not a merge)', async () => {
    const user = await api.createUser({ givenName: 'Ada', familyName: 'Lovelace' });
    const response = await api.put(`${USERS}/${user.id}`, { claims: { givenName: 'Augusta' } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ id: user.id, claims: { givenName: 'Augusta' } });
    expect((await api.get(`${USERS}/${user.id}`)).json()).toEqual({ id: user.id, claims: { givenName: 'Augusta' } });

    expectBadRequest(await api.put(`${USERS}/${user.id}`, { claims: 7 }), ['claims']);
    expect((await api.get(`${USERS}/${user.id}`)).json().claims).toEqual({ givenName: 'Augusta' });
  });

  it('deletes a user: 204, then 404', async () => {
    const user = await api.createUser({ givenName: 'Gone' });
    const response = await api.del(`${USERS}/${user.id}`);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    const { rows } = await issuer.database.pool.query('SELECT 1 FROM users WHERE id = $1', [user.id]);
    expect(rows).toHaveLength(0);
    expect((await api.get(`${USERS}/${user.id}`)).statusCode).toBe(404);
    expect((await api.del(`${USERS}/${user.id}`)).statusCode).toBe(404);
  });

  it('answers 404 for unknown ids and 400 for ids that are not uuids', async () => {
    const id = randomUUID();
    for (const response of [await api.get(`${USERS}/${id}`), await api.put(`${USERS}/${id}`, { claims: { a: 1 } }), await api.del(`${USERS}/${id}`)]) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ code: 'NotFound', message: 'User not found' });
    }
    const { rows } = await issuer.database.pool.query('SELECT 1 FROM users WHERE id = $1', [id]);
    expect(rows).toHaveLength(0);
    expectBadRequest(await api.get(`${USERS}/123`), ['id'], 'params');
    expectBadRequest(await api.put(`${USERS}/123`, { claims: {} }), ['id'], 'params');
    expectBadRequest(await api.del(`${USERS}/123`), ['id'], 'params');
  });

  it('lists users newest first with limit and cursor', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await api.createUser({ listIndex: i })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${USERS}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await api.get(url);
      expect(response.statusCode).toBe(200);
      const page = response.json() as Page;
      expect(page.data.length).toBeGreaterThan(0);
      expect(page.data.length).toBeLessThanOrEqual(2);
      for (const user of page.data) expect(Object.keys(user).sort()).toEqual(['claims', 'id']);
      seen.push(...page.data.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    const total = await issuer.tables.count('users');
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen.slice(0, 5)).toEqual([...created].reverse());
    expectBadRequest(await api.get(`${USERS}?limit=0`), ['limit'], 'query');
    expectBadRequest(await api.get(`${USERS}?cursor=%%%`), ['cursor'], 'query');
  });
});

describe('users: search', () => {
  const tag = randomUUID();
  let ada: string, adaTwin: string, grace: string, nested: string;

  beforeAll(async () => {
    ada = (await api.createUser({ tag, givenName: 'Ada', age: 36, email: 'ada@example.com' })).id;
    adaTwin = (await api.createUser({ tag, givenName: 'Ada', age: 37 })).id;
    grace = (await api.createUser({ tag, givenName: 'Grace', age: '36' })).id;
    nested = (await api.createUser({ tag, givenName: 'Nested', address: { city: 'Paris', zip: '75001' }, roles: ['a', 'b'] })).id;
  });

  it('finds users whose claims contain the given claims exactly', async () => {
    expect((await search({ claims: { tag, givenName: 'Ada' } })).data.map((u) => u.id).sort()).toEqual([ada, adaTwin].sort());
    expect((await search({ claims: { tag, givenName: 'Ada', age: 36 } })).data).toEqual([{ id: ada, claims: { tag, givenName: 'Ada', age: 36, email: 'ada@example.com' } }]);
    expect((await search({ claims: { email: 'ada@example.com' } })).data.map((u) => u.id)).toEqual([ada]);
    expect((await search({ claims: { tag } })).data).toHaveLength(4);
  });

  it('matches values exactly: no prefix, case or type coercion', async () => {
    expect((await search({ claims: { tag, givenName: 'Ad' } })).data).toEqual([]);
    expect((await search({ claims: { tag, givenName: 'ada' } })).data).toEqual([]);
    expect((await search({ claims: { tag, givenName: 'Ada ' } })).data).toEqual([]);
    // 36 (number) is not "36" (string).
    expect((await search({ claims: { tag, age: 36 } })).data.map((u) => u.id)).toEqual([ada]);
    expect((await search({ claims: { tag, age: '36' } })).data.map((u) => u.id)).toEqual([grace]);
    expect((await search({ claims: { tag, missing: 'x' } })).data).toEqual([]);
    expect((await search({ claims: { tag: randomUUID() } })).data).toEqual([]);
  });

  it('matches nested values by containment', async () => {
    expect((await search({ claims: { tag, address: { city: 'Paris' } } })).data.map((u) => u.id)).toEqual([nested]);
    expect((await search({ claims: { tag, address: { city: 'Lyon' } } })).data).toEqual([]);
    expect((await search({ claims: { tag, roles: ['b'] } })).data.map((u) => u.id)).toEqual([nested]);
  });

  it('pages search results with limit and cursor in the body', async () => {
    const pageTag = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.createUser({ pageTag, i })).id);
    await api.createUser({ pageTag: 'other' });
    const { ids: seen, pages } = await searchAll({ pageTag }, 2);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const one = await search({ claims: { pageTag }, limit: 5 });
    expect(one.data).toHaveLength(5);
    expect(one.nextCursor).toBeNull();
  });

  it('validates the search body', async () => {
    expectBadRequest(await api.post(`${USERS}/search`, {}), ['claims']);
    expectBadRequest(await api.post(`${USERS}/search`, { claims: 'Ada' }), ['claims']);
    expectBadRequest(await api.post(`${USERS}/search`, { claims: {}, limit: 0 }), ['limit']);
    expectBadRequest(await api.post(`${USERS}/search`, { claims: {}, limit: 1001 }), ['limit']);
    expectBadRequest(await api.post(`${USERS}/search`, { claims: {}, limit: '10' }), ['limit']);
    expectBadRequest(await api.post(`${USERS}/search`, { claims: {}, cursor: 'garbage!' }), ['cursor']);
    expectBadRequest(await api.post(`${USERS}/search`, { claims: {}, sort: 'name' }), ['sort']);
  });
});
