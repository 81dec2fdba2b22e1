import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { bearer, type TestIssuer } from './issuer.js';

export const CONFIGURATIONS = '/v2/credentials/sd-jwt/configurations';
export const USERS = '/v1/users';
export const OFFERS = '/v1/openid/offers/pre-authorized';
export const EVENTS = '/v1/analytics/events';
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
export const ROLES = ['admin', 'issuer', 'managed-issuer', 'auditor'] as const;
export type TestRole = (typeof ROLES)[number];

export type Response = LightMyRequestResponse;
type Method = NonNullable<InjectOptions['method']>;

export interface ErrorDetail {
  location: string;
  param: string;
  msg: string;
}

export interface DecodedOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  credentials: string[];
  grants: Record<string, { 'pre-authorized_code': string; tx_code?: { length: number; input_mode: string; description?: string } }>;
}

/** `details[].param` of an error response, sorted. */
export function params(response: Response): string[] {
  const body = response.json() as { details?: ErrorDetail[] };
  return (body.details ?? []).map((detail) => detail.param).sort();
}

/** Asserts a 400 in the management error shape whose details name exactly `expected` (sorted), all in `location`. */
export function expectBadRequest(response: Response, expected: string[], location = 'body') {
  expect(response.statusCode, response.body).toBe(400);
  const body = response.json() as { code: string; message: string; details: ErrorDetail[] };
  expect(body.code).toBe('BadRequest');
  expect(typeof body.message).toBe('string');
  expect(params(response)).toEqual([...expected].sort());
  for (const detail of body.details) {
    expect(detail.location).toBe(location);
    expect(detail.msg.length).toBeGreaterThan(0);
  }
  return body;
}

export function decodeOfferUri(uri: string): DecodedOffer {
  const prefix = 'openid-credential-offer://?credential_offer=';
  expect(uri.startsWith(prefix)).toBe(true);
  return JSON.parse(decodeURIComponent(uri.slice(prefix.length))) as DecodedOffer;
}

export function preAuthorizedCodeOf(uri: string): string {
  return decodeOfferUri(uri).grants[PRE_AUTHORIZED_GRANT]!['pre-authorized_code'];
}

/** Short-hands for the management API of a test issuer, as the admin unless another key is given. */
export function management(issuer: TestIssuer) {
  const call = (method: Method, url: string, payload?: unknown, key: string | null = issuer.adminKey, headers: Record<string, string> = {}) =>
    issuer.app.inject({
      method,
      url,
      headers: { ...(key === null ? {} : bearer(key)), ...headers },
      ...(payload !== undefined && { payload: payload as object }),
    });

  const api = {
    call,
    get: (url: string, key?: string | null) => call('GET', url, undefined, key),
    post: (url: string, payload: unknown, key?: string | null, headers?: Record<string, string>) => call('POST', url, payload, key, headers),
    put: (url: string, payload: unknown, key?: string | null) => call('PUT', url, payload, key),
    del: (url: string, key?: string | null) => call('DELETE', url, undefined, key),

    async createKey(role: TestRole, name = `${role} key`) {
      const response = await call('POST', '/v1/api-keys', { name, role });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { id: string; key: string; role: TestRole };
    },

    async createConfiguration(body: Record<string, unknown> = {}) {
      const response = await call('POST', CONFIGURATIONS, { type: 'https://credentials.example.com/test', ...body });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { id: string; type: string; claimMappings: Record<string, unknown>; [key: string]: unknown };
    },

    async createUser(claims: Record<string, unknown> = {}) {
      const response = await call('POST', USERS, { claims });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { id: string; claims: Record<string, unknown> };
    },

    async createOffer(body: Record<string, unknown>, key?: string) {
      const response = await call('POST', OFFERS, body, key);
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { id: string; userId: string; uri: string; expiresAt: string; transactionCode?: number | string };
    },

    async count(table: string): Promise<number> {
      const { rows } = await issuer.database.pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
      return Number(rows[0]!.count);
    },

    /** Row counts of the tables a management request may write. */
    async counts() {
      return { users: await api.count('users'), offers: await api.count('offers'), configurations: await api.count('credential_configurations') };
    },

    /** Events straight from the table, oldest first. */
    async eventRows(where = 'true', values: unknown[] = []) {
      const { rows } = await issuer.database.pool.query<{ type: string; category: string; request_id: string | null; actor: string | null; data: Record<string, unknown> }>(
        `SELECT type, category, request_id, actor, data FROM events WHERE ${where} ORDER BY seq`,
        values,
      );
      return rows;
    },
  };
  return api;
}

/**
 * Every row of every table of the public schema, as one string: each value JSON-encoded, with
 * bytea values rendered both as hex and as (lossy) UTF-8 so that a plaintext stored as bytes shows up.
 */
export async function dumpDatabase(issuer: TestIssuer): Promise<{ text: string; tables: string[]; rows: number }> {
  const pool = issuer.database.pool;
  const { rows: tables } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const parts: string[] = [];
  let count = 0;
  for (const { table_name } of tables) {
    const { rows } = await pool.query(`SELECT * FROM "${table_name}"`);
    count += rows.length;
    for (const row of rows) {
      parts.push(
        `${table_name}:${JSON.stringify(row, function (this: Record<string, unknown>, key, value) {
          const raw = this[key];
          if (Buffer.isBuffer(raw)) return { hex: raw.toString('hex'), utf8: raw.toString('utf8') };
          return value;
        })}`,
      );
    }
  }
  return { text: parts.join('\n'), tables: tables.map((t) => t.table_name), rows: count };
}
