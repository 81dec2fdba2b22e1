import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { credentialRequest } from './support/client.js';
import { OAUTH_DESCRIPTION } from './support/hostile.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt } from './support/wallet.js';

// What OpenID4VCI 1.0 (and the RFCs it builds on) ask of the wallet-facing endpoints, beyond the
// happy path: each rule is one that some wallet or verifier trips over when an issuer bends it.

let issuer: TestIssuer;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  configurationId = (await issuer.client.createConfiguration()).id;
});
afterAll(() => issuer.close());

const api = () => issuer.client;
const proof = async (nonce?: string) => proofJwt(await holderKey(), { aud: issuer.config.publicUrl, ...(nonce && { nonce }) });

describe('error responses', () => {
  it('error_description holds only the characters RFC 6749 §5.2 allows, and never what the request sent', async () => {
    const { token } = await api().startSession({ credentials: [configurationId] });
    const hostile = 'näive "quoted" \\ back\u2028slash <zzmarker>';
    const responses = [
      await api().requestCredential(token, { credential_configuration_id: hostile, proofs: { jwt: [await proof(await api().nonce())] } }),
      await api().requestCredential(token, { format: hostile, proof: { proof_type: 'jwt', jwt: 'x' } }),
      await api().requestCredential(token, { credential_configuration_id: configurationId, proofs: { jwt: ['"\\"'] } }),
      await api().requestToken({ grant_type: hostile, 'pre-authorized_code': hostile }),
      await api().requestToken({ 'pre-authorized_code': hostile }),
      await api().requestCredential(`${hostile}x`, {}),
    ];
    for (const response of responses) {
      expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
      const body = response.json();
      expect(body.error_description, response.body).toMatch(OAUTH_DESCRIPTION);
      expect(response.body, response.body).not.toContain('zzmarker');
      expect(response.body).not.toContain('quoted');
      const challenge = String(response.headers['www-authenticate'] ?? '');
      expect(challenge).not.toContain('zzmarker');
      const quoted = /error_description="([^"]*)"/.exec(challenge)?.[1];
      if (quoted !== undefined) expect(quoted).toMatch(OAUTH_DESCRIPTION);
    }
  });
});

describe('the credential endpoint', () => {
  it('refuses credential_response_encryption with invalid_encryption_parameters rather than answering in plaintext (§8.3)', async () => {
    const { offer, token } = await api().startSession({ credentials: [configurationId] });
    const response = await api().requestCredential(token, {
      ...credentialRequest(configurationId, [await proof(await api().nonce())]),
      credential_response_encryption: { jwk: (await holderKey()).publicJwk, alg: 'ECDH-ES', enc: 'A128GCM' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('invalid_encryption_parameters');
    expect(await issuer.tables.count(`credential_issuances WHERE offer_id = '${offer.id}'`)).toBe(0);
  });

  it('takes the drafts 14-15 shape (credential_configuration_id with one proof), answering credentials, credential and a c_nonce', async () => {
    const { token } = await api().startSession({ credentials: [configurationId] });
    const response = await api().requestCredential(token, { credential_configuration_id: configurationId, proof: { proof_type: 'jwt', jwt: await proof(await api().nonce()) } });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toEqual({ credentials: [{ credential: expect.any(String) }], credential: body.credentials[0].credential, c_nonce: expect.any(String), c_nonce_expires_in: 300, notification_id: expect.any(String) });
    // proof and proofs together are ambiguous.
    const both = await api().requestCredential(token, { credential_configuration_id: configurationId, proof: { proof_type: 'jwt', jwt: 'x' }, proofs: { jwt: ['x'] } });
    expect(both.json().error).toBe('invalid_credential_request');
  });
});

describe('the nonce endpoint', () => {
  it('accepts an empty body sent as application/json', async () => {
    const response = await api().call('POST', '/v1/openid/nonce', undefined, null, { 'content-type': 'application/json' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().c_nonce).toEqual(expect.any(String));
  });
});

describe('metadata', () => {
  it('the authorization server names its response types and DPoP algorithms (RFC 8414, RFC 9449 §5.1)', async () => {
    const metadata = await api().metadata('authorizationServer');
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256']);
  });
});

describe('production settings', () => {
  it('refuse an http or missing PUBLIC_URL with one line (§12.2.1: the Credential Issuer Identifier is https)', () => {
    const production = { NODE_ENV: 'production', SECRET: 's'.repeat(40), DATABASE_URL: 'postgres://localhost/vci' };
    for (const env of [production, { ...production, PUBLIC_URL: 'http://issuer.example.com' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/^Invalid configuration: PUBLIC_URL must be .*https/);
    }
    expect(loadConfig({ ...production, PUBLIC_URL: 'https://issuer.example.com' }).publicUrl).toBe('https://issuer.example.com');
  });
});
