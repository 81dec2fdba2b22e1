import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { PROOF_TYP } from '../src/protocol.js';
import { OFFERS, credentialRequest, preAuthorizedCodeOf, type HttpResponse, type IssuerClient } from '../test/support/client.js';
import type { StepStats } from './stats.js';

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
  const signingInput = `${b64({ typ: PROOF_TYP, alg: 'ES256', jwk: key.jwk })}.${b64({ aud: audience, iat: Math.floor(Date.now() / 1000), nonce })}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export interface FlowContext {
  /** The service's client over the bench's connection pool, as the issuer back-end's API key. */
  client: IssuerClient;
  publicUrl: string;
  configurationId: string;
  keys: WalletKey[];
  stats: StepStats;
}

/**
 * Records `response` under `step`: its latency (request sent to body read) when it has the
 * `expected` status, a failure otherwise. Returns its parsed body, or undefined.
 */
function accepted(stats: StepStats, step: string, expected: number, response: HttpResponse) {
  if (response.statusCode !== expected) {
    stats.fail(step, `${response.statusCode} ${response.body}`);
    return undefined;
  }
  try {
    const body = response.json();
    stats.record(step, response.endedAt! - response.startedAt!);
    return body;
  } catch (error) {
    stats.fail(step, String(error));
    return undefined;
  }
}

/** The claims of every offer: four selectively disclosable, as the peer's credentials have. */
export const OFFER_CLAIMS = { givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.org', birthdate: '1815-12-10' };

/** An offer with a 4-digit transaction code (as a back-end sends one by e-mail or SMS). */
export async function createOffer(ctx: FlowContext, index: number) {
  const body = { credentials: [ctx.configurationId], claims: { ...OFFER_CLAIMS, memberNumber: String(index) }, transactionCodeConfiguration: { length: 4 } };
  return accepted(ctx.stats, 'offer', 201, await ctx.client.post(OFFERS, body)) as { uri: string; transactionCode?: string } | undefined;
}

export async function redeem(ctx: FlowContext, code: string, txCode?: string) {
  return accepted(ctx.stats, 'token', 200, await ctx.client.requestToken({ 'pre-authorized_code': code, tx_code: txCode })) as { access_token: string } | undefined;
}

/** offer → token → nonce → credential (with a real ES256 proof) → the SD-JWT VC parses. */
export async function walletFlow(ctx: FlowContext, index: number): Promise<boolean> {
  const started = performance.now();
  const offer = await createOffer(ctx, index);
  if (!offer) return false;
  const token = await redeem(ctx, preAuthorizedCodeOf(offer.uri), offer.transactionCode === undefined ? undefined : String(offer.transactionCode));
  if (!token) return false;
  const nonce = accepted(ctx.stats, 'nonce', 200, await ctx.client.requestNonce());
  if (!nonce) return false;
  const key = ctx.keys[index % ctx.keys.length]!;
  const request = credentialRequest(ctx.configurationId, [proofJwt(key, ctx.publicUrl, nonce.c_nonce)]);
  const credential = accepted(ctx.stats, 'credential', 200, await ctx.client.requestCredential(token.access_token, request));
  if (!credential) return false;
  const sdJwt: string = credential.credentials?.[0]?.credential ?? '';
  const [jwt, ...disclosures] = sdJwt.split('~');
  try {
    const payload = JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString());
    if (payload.cnf?.jwk?.x !== key.jwk.x || disclosures.filter(Boolean).length !== 4) throw new Error('unexpected credential');
  } catch (error) {
    ctx.stats.fail('parse', String(error));
    return false;
  }
  ctx.stats.record('flow', performance.now() - started);
  return true;
}
