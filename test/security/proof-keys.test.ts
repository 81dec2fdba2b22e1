import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRequest } from '../support/client.js';
import { handmadeJws, nowSeconds, proofHeader } from '../support/hostile-proofs.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { holderKey, type HolderKey } from '../support/wallet.js';

// The holder key a credential is bound to: named by the proof's jwk alone, in canonical form, one
// key per credential of a batch; cnf.jwk and the recorded thumbprint come from the key itself.
let issuer: TestIssuer;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  configurationId = (await issuer.client.createConfiguration({ claimMappings: { name: { mapFrom: 'claims.name' } } })).id;
});
afterAll(() => issuer.close());

const accessToken = async () => (await issuer.client.startSession({ credentials: [configurationId] })).token;
const payload = async () => ({ aud: issuer.config.publicUrl, iat: nowSeconds(), nonce: await issuer.client.nonce() });
const request = (token: string, jwts: string[]) => issuer.client.requestCredential(token, credentialRequest(configurationId, jwts));

/** The same base64url text with `=` padding, the standard alphabet, or a junk character. */
const variants = (value: string) => [`${value}=`, Buffer.from(value, 'base64url').toString('base64'), `${value.slice(0, -1)}.`, ` ${value}`, value.slice(0, -1)];

describe('proof keys', () => {
  let holder: HolderKey;
  beforeAll(async () => {
    holder = await holderKey();
  });

  it('a jwk whose x or y is not canonical unpadded base64url is refused, and nothing is issued', async () => {
    const token = await accessToken();
    for (const member of ['x', 'y'] as const) {
      for (const value of variants(holder.publicJwk[member]!)) {
        if (value === holder.publicJwk[member]) continue;
        const jwt = await handmadeJws({ ...proofHeader(holder), jwk: { ...holder.publicJwk, [member]: value } }, await payload(), holder);
        const response = await request(token, [jwt]);
        expect(response.statusCode, `${member}=${value}`).toBe(400);
        expect(response.json().error).toBe('invalid_proof');
      }
    }
    expect((await request(token, [await handmadeJws(proofHeader(holder), await payload(), holder)])).statusCode).toBe(200);
  });

  it('a header naming the key by jwk and also by kid, x5c or trust_chain is refused', async () => {
    const token = await accessToken();
    for (const extra of [{ kid: 'key-1' }, { x5c: ['MIIB'] }, { trust_chain: ['eyJ'] }]) {
      const response = await request(token, [await handmadeJws({ ...proofHeader(holder), ...extra }, await payload(), holder)]);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'invalid_proof', error_description: expect.stringContaining(Object.keys(extra)[0]!) });
    }
  });

  it('a batch whose proofs share a key is refused: each key binds one credential', async () => {
    const token = await accessToken();
    const issued = async () => (await issuer.database.pool.query('SELECT count(*)::int AS n FROM credential_issuances')).rows[0].n as number;
    const before = await issued();
    const proof = await handmadeJws(proofHeader(holder), await payload(), holder);
    const same = await handmadeJws(proofHeader(holder), await payload(), holder);
    for (const batch of [[proof, proof], [proof, same]]) {
      const response = await request(token, batch);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('invalid_proof');
    }
    expect(await issued()).toBe(before);
  });

  it('cnf.jwk holds exactly the public key members, and the stored thumbprint is RFC 7638', async () => {
    const token = await accessToken();
    const jwt = await handmadeJws({ ...proofHeader(holder), jwk: { ...holder.publicJwk, alg: 'ES256', use: 'sig', ext: true } }, await payload(), holder);
    const response = await request(token, [jwt]);
    expect(response.statusCode, response.body).toBe(200);
    const credential = response.json().credentials[0].credential as string;
    const cnf = (decodeJwt(credential.split('~')[0]!) as { cnf: { jwk: Record<string, string> } }).cnf;
    const { x, y } = holder.publicJwk;
    expect(cnf.jwk).toEqual({ kty: 'EC', crv: 'P-256', x, y });
    const thumbprint = createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y })).digest('base64url');
    const { rows } = await issuer.database.pool.query('SELECT holder_key_thumbprint FROM credential_issuances ORDER BY issued_at DESC LIMIT 1');
    expect(rows[0].holder_key_thumbprint).toBe(thumbprint);
  });
});
