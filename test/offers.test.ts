import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestIssuer, type TestIssuer } from './support/issuer.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const post = (url: string, payload: unknown, key = issuer.adminKey) => issuer.app.inject({ method: 'POST', url, headers: bearer(key), payload: payload as object });

describe('pre-authorized offers', () => {
  it('creates an offer whose URI decodes to the OID4VCI credential offer', async () => {
    const configuration = await post('/v2/credentials/sd-jwt/configurations', {
      type: 'https://credentials.example.com/identity',
      name: 'Identity',
      claimMappings: { given_name: { mapFrom: 'claims.givenName', required: true }, user_id: { mapFrom: 'user.id' } },
      expiresIn: { years: 1 },
    });
    expect(configuration.statusCode).toBe(201);
    const { id: configurationId } = configuration.json();

    const response = await post('/v1/openid/offers/pre-authorized', {
      credentials: [configurationId],
      claims: { givenName: 'Ada' },
      transactionCodeConfiguration: { description: 'Sent by e-mail', length: 6 },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({ id: expect.any(String), userId: expect.any(String), uri: expect.stringMatching(/^openid-credential-offer:\/\/\?credential_offer=/), expiresAt: expect.any(String), transactionCode: expect.any(Number) });
    expect(String(body.transactionCode)).toMatch(/^[1-9]\d{5}$/);
    const offer = JSON.parse(decodeURIComponent(body.uri.split('credential_offer=')[1]));
    expect(offer).toEqual({
      credential_issuer: 'https://issuer.example.com',
      credential_configuration_ids: [configurationId],
      credentials: [configurationId],
      grants: {
        'urn:ietf:params:oauth:grant-type:pre-authorized_code': {
          'pre-authorized_code': expect.stringMatching(/^[\w-]{43}$/),
          tx_code: { length: 6, input_mode: 'numeric', description: 'Sent by e-mail' },
        },
      },
    });
    const fetched = await issuer.app.inject({ url: `/v1/openid/offers/pre-authorized/${body.id}`, headers: bearer(issuer.adminKey) });
    expect(fetched.json()).toMatchObject({ id: body.id, status: 'pending', credentials: [configurationId] });
  });
});
