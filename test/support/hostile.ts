import { expect } from 'vitest';
import type { HttpResponse } from './client.js';
import type { TestIssuer } from './issuer.js';

// Shared checks for the tests that throw hostile input at the issuer.

export type RouteKind = 'management' | 'wallet' | 'public';

const MANAGEMENT_CODES = [
  'BadRequest',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'Conflict',
  'PayloadTooLarge',
  'UnsupportedMediaType',
  'TooManyRequests',
  'ServiceUnavailable',
];

export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** A 4xx in the documented shape of the route: management `{ code, message, details? }`, OAuth `{ error, error_description }`. */
/** The characters RFC 6749 §5.2 allows in error_description. */
export const OAUTH_DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

export function expectDocumentedRejection(kind: RouteKind, response: HttpResponse, label = '') {
  const message = `${label} → ${response.statusCode} ${response.body.slice(0, 500)}`;
  expect(response.statusCode, message).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, message).toBeLessThan(500);
  expect(response.headers['content-type'], message).toMatch(/^application\/json/);
  const body = response.json() as Record<string, unknown>;
  if (kind === 'wallet') {
    expect(body, message).toMatchObject({ error: expect.stringMatching(/^[a-z_]+$/) });
    expect(Object.keys(body).every((key) => ['error', 'error_description', 'c_nonce', 'c_nonce_expires_in'].includes(key)), message).toBe(true);
    // RFC 6749 §5.2: only %x20-21 / %x23-5B / %x5D-7E in error_description.
    if (body.error_description !== undefined) expect(body.error_description, message).toMatch(OAUTH_DESCRIPTION);
    expect(response.headers['cache-control'], message).toBe('no-store');
  } else {
    expect(body, message).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(MANAGEMENT_CODES, message).toContain(body.code);
    expect(Object.keys(body).every((key) => ['code', 'message', 'details'].includes(key)), message).toBe(true);
    if (body.details !== undefined) {
      expect(Array.isArray(body.details), message).toBe(true);
      for (const detail of body.details as unknown[]) expect(detail, message).toEqual({ location: expect.any(String), param: expect.any(String), msg: expect.any(String) });
    }
  }
  // Never internals.
  expect(response.body, message).not.toMatch(/\.(ts|js):\d+:\d+|node_modules|FST_ERR|ZodError|DatabaseError|violates .* constraint|invalid byte sequence/);
  expect(response.headers, message).toMatchObject(SECURITY_HEADERS);
}

/** Never a 5xx, whatever the outcome. */
export function expectNoServerError(response: HttpResponse, label = '') {
  expect(response.statusCode, `${label} → ${response.statusCode} ${response.body.slice(0, 500)}`).toBeLessThan(500);
}

/**
 * The state of every table except the events log, as counts and checksums of the rows, plus the
 * number of SUCCESS events: identical before and after means nothing was written (rejected requests
 * may only add START/FAIL events).
 */
export async function stateFingerprint(issuer: TestIssuer): Promise<Record<string, string>> {
  const pool = issuer.database.pool;
  const { rows: tables } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'events' ORDER BY table_name`,
  );
  const state: Record<string, string> = {};
  for (const { table_name } of tables) {
    const { rows } = await pool.query<{ n: string; sum: string }>(
      `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum FROM "${table_name}" t`,
    );
    state[table_name] = `${rows[0]!.n}:${rows[0]!.sum}`;
  }
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE type LIKE '%\\_SUCCESS'");
  state['events (SUCCESS)'] = rows[0]!.n;
  return state;
}

export async function expectHealthy(issuer: TestIssuer) {
  for (const url of ['/health/live', '/health/ready']) {
    const response = await issuer.client.get(url, null);
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  }
}
