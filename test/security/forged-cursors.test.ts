import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS, CONFIGURATIONS, EVENTS, OFFERS, USERS } from '../support/client.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';

// A cursor is opaque to clients; one that toPage did not make is a 400 on every list, never a 500.
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const encode = (text: string) => Buffer.from(text).toString('base64url');
const LISTS = [USERS, OFFERS, EVENTS, API_KEYS, CONFIGURATIONS];
const FORGED = [
  encode('s99999999999999999999'.slice(0, 20)), // 19 digits, past the largest bigint
  encode('s9223372036854775808'), // the largest bigint plus one
  encode('s0'),
  encode('s-1'),
  encode('s1e5'),
  encode('s 1'),
  'not base64 at all!',
];

describe('forged pagination cursors', () => {
  it('are a 400 naming the cursor on every list route and on the user search, with nothing in the log but the request', async () => {
    const api = issuer.client;
    for (const cursor of FORGED) {
      for (const list of LISTS) {
        const response = await api.get(`${list}?cursor=${encodeURIComponent(cursor)}`);
        expect(response.statusCode, `${list} ${cursor}`).toBe(400);
        expect(response.json()).toEqual({ code: 'BadRequest', message: 'Validation Error', details: [{ location: 'query', param: 'cursor', msg: 'Invalid cursor' }] });
      }
      const search = await api.post(`${USERS}/search`, { claims: {}, cursor });
      expect(search.statusCode).toBe(400);
      expect(search.json().details).toEqual([{ location: 'body', param: 'cursor', msg: 'Invalid cursor' }]);
    }
    expect(issuer.logs.join('\n')).not.toMatch(/out of range|"level":50/);
  });

  it('the largest bigint is still a cursor (an empty page)', async () => {
    const response = await issuer.client.get(`${USERS}?cursor=${encode('s9223372036854775807')}`);
    expect(response.statusCode).toBe(200);
  });
});
