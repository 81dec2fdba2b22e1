import { expect } from 'vitest';
import { bearer, type TestIssuer } from './issuer.js';

export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

export async function createConfiguration(issuer: TestIssuer, body: Record<string, unknown> = {}): Promise<string> {
  const response = await issuer.app.inject({
    method: 'POST',
    url: '/v2/credentials/sd-jwt/configurations',
    headers: bearer(issuer.adminKey),
    payload: { type: 'https://credentials.example.com/test', claimMappings: { name: { mapFrom: 'claims.name', required: true } }, ...body },
  });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

export interface TestOffer {
  id: string;
  userId: string;
  uri: string;
  code: string;
  transactionCode?: number | string;
}

export async function createOffer(issuer: TestIssuer, body: Record<string, unknown>): Promise<TestOffer> {
  const response = await issuer.app.inject({
    method: 'POST',
    url: '/v1/openid/offers/pre-authorized',
    headers: bearer(issuer.adminKey),
    payload: { claims: { name: 'Ada' }, ...body },
  });
  expect(response.statusCode).toBe(201);
  const offer = response.json();
  const decoded = JSON.parse(decodeURIComponent(offer.uri.split('credential_offer=')[1]));
  return { ...offer, code: decoded.grants[PRE_AUTHORIZED_GRANT]['pre-authorized_code'] };
}

export function tokenForm(fields: Record<string, string | undefined>): string {
  return new URLSearchParams(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
}

/** POST /v1/oauth/token through the app's HTTP stack. */
export async function requestToken(issuer: TestIssuer, fields: Record<string, string | undefined>) {
  return issuer.app.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: tokenForm({ grant_type: PRE_AUTHORIZED_GRANT, ...fields }),
  });
}
