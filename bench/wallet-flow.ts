import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Pool } from 'undici';
import type { StepStats } from './stats.js';

export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

interface WalletKey {
  privateKey: KeyObject;
  jwk: { kty: string; crv: string; x: string; y: string };
}

/** A pool of pre-generated ES256 wallet keys, so key generation is not part of what is measured. */
export function walletKeys(count: number): WalletKey[] {
  return Array.from({ length: count }, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as WalletKey['jwk'];
    return { privateKey, jwk: { kty, crv, x, y } };
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function proofJwt(key: WalletKey, audience: string, nonce: string): string {
  const signingInput = `${b64({ typ: 'openid4vci-proof+jwt', alg: 'ES256', jwk: key.jwk })}.${b64({ aud: audience, iat: Math.floor(Date.now() / 1000), nonce })}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export interface FlowContext {
  http: Pool;
  publicUrl: string;
  apiKey: string;
  configurationId: string;
  keys: WalletKey[];
  stats: StepStats;
}

async function call(ctx: FlowContext, step: string, expected: number, options: { method: 'POST'; path: string; headers: Record<string, string>; body: string }) {
  const started = performance.now();
  try {
    const response = await ctx.http.request(options);
    const text = await response.body.text();
    const elapsed = performance.now() - started;
    if (response.statusCode !== expected) {
      ctx.stats.fail(step, `${response.statusCode} ${text}`);
      return undefined;
    }
    ctx.stats.record(step, elapsed);
    return JSON.parse(text);
  } catch (error) {
    ctx.stats.fail(step, String(error));
    return undefined;
  }
}

export async function createOffer(ctx: FlowContext, index: number) {
  return call(ctx, 'offer', 201, {
    method: 'POST',
    path: '/v1/openid/offers/pre-authorized',
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credentials: [ctx.configurationId], claims: { givenName: 'Ada', familyName: 'Lovelace', memberNumber: String(index) } }),
  }) as Promise<{ uri: string } | undefined>;
}

export function codeOf(uri: string): string {
  return JSON.parse(decodeURIComponent(uri.split('credential_offer=')[1]!)).grants[PRE_AUTHORIZED_GRANT]['pre-authorized_code'];
}

export async function redeem(ctx: FlowContext, code: string) {
  return call(ctx, 'token', 200, {
    method: 'POST',
    path: '/v1/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': code }).toString(),
  }) as Promise<{ access_token: string } | undefined>;
}

/** offer → token → nonce → credential (with a real ES256 proof) → the SD-JWT VC parses. */
export async function walletFlow(ctx: FlowContext, index: number): Promise<boolean> {
  const started = performance.now();
  const offer = await createOffer(ctx, index);
  if (!offer) return false;
  const token = await redeem(ctx, codeOf(offer.uri));
  if (!token) return false;
  const nonce = await call(ctx, 'nonce', 200, { method: 'POST', path: '/v1/openid/nonce', headers: {}, body: '' });
  if (!nonce) return false;
  const key = ctx.keys[index % ctx.keys.length]!;
  const credential = await call(ctx, 'credential', 200, {
    method: 'POST',
    path: '/v1/openid/credential',
    headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credential_configuration_id: ctx.configurationId, proofs: { jwt: [proofJwt(key, ctx.publicUrl, nonce.c_nonce)] } }),
  });
  if (!credential) return false;
  const sdJwt: string = credential.credentials?.[0]?.credential ?? '';
  const [jwt, ...disclosures] = sdJwt.split('~');
  try {
    const payload = JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString());
    if (payload.cnf?.jwk?.x !== key.jwk.x || disclosures.length < 2) throw new Error('unexpected credential');
  } catch (error) {
    ctx.stats.fail('parse', String(error));
    return false;
  }
  ctx.stats.record('flow', performance.now() - started);
  return true;
}
