import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRequest, type HttpResponse } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt, type HolderKey } from './support/wallet.js';

// DPoP (RFC 9449), as HAIP asks: a token request with a DPoP proof gets a token bound to the proof's
// key, and every use of that token must prove the key, once per proof, with a nonce of the server's.

let issuer: TestIssuer;
let second: TestIssuer;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  second = await startTestIssuer({ databaseUrl: issuer.databaseUrl });
  configurationId = (await issuer.client.createConfiguration()).id;
});
afterAll(async () => {
  await second.close();
  await issuer.close();
});

const TOKEN_URL = 'https://issuer.example.com/v1/oauth/token';
const CREDENTIAL_URL = 'https://issuer.example.com/v1/openid/credential';
const NOTIFICATION_URL = 'https://issuer.example.com/v1/openid/notification';
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

async function dpopProof(key: HolderKey, claims: { htm?: string; htu: string; nonce?: string; accessToken?: string; jti?: string; iat?: number }) {
  return new SignJWT({
    jti: claims.jti ?? randomUUID(),
    htm: claims.htm ?? 'POST',
    htu: claims.htu,
    ...(claims.nonce !== undefined && { nonce: claims.nonce }),
    ...(claims.accessToken !== undefined && { ath: ath(claims.accessToken) }),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk })
    .setIssuedAt(claims.iat)
    .sign(key.privateKey);
}

const nonceOf = (response: HttpResponse) => response.headers['dpop-nonce'] as string;

/** The token endpoint's nonce dance: refused without a nonce, with the nonce to use; then a DPoP-bound token. */
async function dpopToken(key: HolderKey, target = issuer) {
  const offer = await target.client.createOffer({ credentials: [configurationId] });
  const first = await target.client.requestToken({ 'pre-authorized_code': offer.code }, { headers: { dpop: await dpopProof(key, { htu: TOKEN_URL }) } });
  expect(first.statusCode, first.body).toBe(400);
  expect(first.json().error).toBe('use_dpop_nonce');
  const nonce = nonceOf(first);
  expect(nonce).toEqual(expect.any(String));
  const token = await target.client.requestToken({ 'pre-authorized_code': offer.code }, { headers: { dpop: await dpopProof(key, { htu: TOKEN_URL, nonce }) } });
  expect(token.statusCode, token.body).toBe(200);
  return { offer, body: token.json(), nextNonce: nonceOf(token) };
}

async function credentialWith(token: string, dpop: string | undefined, scheme = 'DPoP') {
  const body = credentialRequest(configurationId, [await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce: await issuer.client.nonce() })]);
  return issuer.client.requestCredential(undefined, body, { authorization: `${scheme} ${token}`, ...(dpop && { dpop }) });
}

describe('the token endpoint with a DPoP proof', () => {
  it('asks for a nonce first, then binds the token to the key: token_type DPoP, and a nonce for the next request', async () => {
    const key = await holderKey();
    const { body, nextNonce } = await dpopToken(key);
    expect(body.token_type).toBe('DPoP');
    expect(nextNonce).toEqual(expect.any(String));
    const { rows } = await issuer.database.pool.query('SELECT dpop_jkt FROM access_tokens WHERE dpop_jkt IS NOT NULL');
    expect(rows.length).toBeGreaterThan(0);
  });

  it('refuses a proof for another URL or method, an old one, one signed by another key than its jwk, and a replay — on any instance', async () => {
    const key = await holderKey();
    const offer = await issuer.client.createOffer({ credentials: [configurationId] });
    const nonce = nonceOf(await issuer.client.requestToken({ 'pre-authorized_code': offer.code }, { headers: { dpop: await dpopProof(key, { htu: TOKEN_URL }) } }));
    const refusedProofs = [
      await dpopProof(key, { htu: CREDENTIAL_URL, nonce }),
      await dpopProof(key, { htu: TOKEN_URL, htm: 'GET', nonce }),
      await dpopProof(key, { htu: TOKEN_URL, nonce, iat: Math.floor(Date.now() / 1000) - 3600 }),
      (await dpopProof(key, { htu: TOKEN_URL, nonce })).replace(/\.[^.]+$/, '.' + Buffer.alloc(64).toString('base64url')),
    ];
    for (const dpop of refusedProofs) {
      const response = await issuer.client.requestToken({ 'pre-authorized_code': offer.code }, { headers: { dpop } });
      expect(response.json().error, response.body).toBe('invalid_dpop_proof');
    }
    // A proof is good once, across instances: the second instance refuses what the first accepted.
    const proof = await dpopProof(key, { htu: TOKEN_URL, nonce });
    const unknown = await issuer.client.requestToken({ 'pre-authorized_code': 'not-a-code' }, { headers: { dpop: proof } });
    expect(unknown.json().error).toBe('invalid_grant');
    const replayed = await second.client.requestToken({ 'pre-authorized_code': offer.code }, { headers: { dpop: proof } });
    expect(replayed.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringContaining('used before') });
    // None of them consumed the code.
    const fresh = await dpopProof(key, { htu: TOKEN_URL, nonce });
    expect((await issuer.client.requestToken({ 'pre-authorized_code': offer.code }, { headers: { dpop: fresh } })).statusCode).toBe(200);
  });

  it('with DPOP=required, a token request without a proof is refused', async () => {
    const strict = await startTestIssuer({ databaseUrl: issuer.databaseUrl, env: { DPOP: 'required' } });
    try {
      const offer = await strict.client.createOffer({ credentials: [configurationId] });
      const response = await strict.client.requestToken({ 'pre-authorized_code': offer.code });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('invalid_dpop_proof');
      expect((await strict.tables.count(`offers WHERE id = '${offer.id}' AND status = 'pending'`))).toBe(1);
    } finally {
      await strict.close();
    }
  });
});

describe('a DPoP-bound access token', () => {
  it('is accepted with Authorization: DPoP and a fresh proof of its key for the credential endpoint, with ath', async () => {
    const key = await holderKey();
    const { body, nextNonce } = await dpopToken(key);
    const response = await credentialWith(body.access_token, await dpopProof(key, { htu: CREDENTIAL_URL, nonce: nextNonce, accessToken: body.access_token }));
    expect(response.statusCode, response.body).toBe(200);
    expect(decodeJwt(response.json().credentials[0].credential.split('~')[0])).toMatchObject({ cnf: { jwk: expect.any(Object) } });

    // The notification endpoint takes the token the same way (OID4VCI 1.0 §11.1), and only that way.
    const notification = { notification_id: response.json().notification_id, event: 'credential_accepted' };
    const asBearer = await issuer.client.notify(body.access_token, notification);
    expect(asBearer.statusCode).toBe(401);
    const dpop = await dpopProof(key, { htu: NOTIFICATION_URL, nonce: nextNonce, accessToken: body.access_token });
    const notified = await issuer.client.notify(undefined, notification, { authorization: `DPoP ${body.access_token}`, dpop });
    expect(notified.statusCode, notified.body).toBe(204);
  });

  it('is refused as Bearer, with another key, without ath, replayed, or without the server nonce (401 with a challenge and a JSON body)', async () => {
    const key = await holderKey();
    const { body, nextNonce } = await dpopToken(key);
    const token = body.access_token as string;

    const asBearer = await credentialWith(token, undefined, 'Bearer');
    expect(asBearer.statusCode).toBe(401);
    expect(asBearer.json().error).toBe('invalid_token');
    expect(asBearer.headers['www-authenticate']).toMatch(/^DPoP realm="[^"]+", error="invalid_token"/);

    for (const dpop of [
      await dpopProof(await holderKey(), { htu: CREDENTIAL_URL, nonce: nextNonce, accessToken: token }),
      await dpopProof(key, { htu: CREDENTIAL_URL, nonce: nextNonce }),
      await dpopProof(key, { htu: CREDENTIAL_URL, nonce: nextNonce, accessToken: `${token}x` }),
      await dpopProof(key, { htu: TOKEN_URL, nonce: nextNonce, accessToken: token }),
    ]) {
      const response = await credentialWith(token, dpop);
      expect(response.statusCode, response.body).toBe(401);
      expect(response.json().error).toBe('invalid_dpop_proof');
      expect(response.headers['www-authenticate']).toMatch(/^DPoP realm="[^"]+", error="invalid_dpop_proof"/);
    }

    const withoutNonce = await credentialWith(token, await dpopProof(key, { htu: CREDENTIAL_URL, accessToken: token }));
    expect(withoutNonce.statusCode).toBe(401);
    expect(withoutNonce.json().error).toBe('use_dpop_nonce');
    expect(withoutNonce.headers['www-authenticate']).toMatch(/error="use_dpop_nonce"/);
    const nonce = nonceOf(withoutNonce);

    const proof = await dpopProof(key, { htu: CREDENTIAL_URL, nonce, accessToken: token });
    expect((await credentialWith(token, proof)).statusCode).toBe(200);
    const replay = await credentialWith(token, proof);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error).toBe('invalid_dpop_proof');
  });

  it('a Bearer token is refused with the DPoP scheme', async () => {
    const { token } = await issuer.client.startSession({ credentials: [configurationId] });
    const response = await credentialWith(token, await dpopProof(await holderKey(), { htu: CREDENTIAL_URL, accessToken: token }));
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toBe('invalid_token');
  });
});
