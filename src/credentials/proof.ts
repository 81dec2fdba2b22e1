import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { OAuthError } from '../errors/oauth.js';
import { PROOF_SIGNING_ALGS, PROOF_TYP } from '../protocol.js';
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const MAX_PROOF_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const KEY_HEADER_MEMBERS = ['jwk', 'kid', 'x5c', 'trust_chain'];

/** A P-256 coordinate as RFC 7518 §6.2.1 writes it: 32 bytes, unpadded base64url, nothing else (no padding, no other alphabet). */
const isCoordinate = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value;

export interface VerifiedProof {
  /** The holder's public key, public members only, for `cnf.jwk`. */
  jwk: JWK;
  thumbprint: string;
  nonce: unknown;
}

const invalidProof = (description: string) => new OAuthError('invalid_proof', description);

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw invalidProof(`The proof's ${what} is not a JSON object`);
}

/** RFC 7638 §3.2: the members of an EC key in lexicographic order, no white space. */
function ecThumbprint(jwk: { crv: string; x: string; y: string }): string {
  return createHash('sha256').update(`{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`).digest('base64url');
}

/**
 * Checks one JWT key proof (OID4VCI 1.0 §8.2.1.1, Appendix F.1): typ, an advertised asymmetric alg,
 * a public `jwk` header and no `crit`, `aud` = the Credential Issuer Identifier, `iat` within the
 * window, and the ES256 signature. The nonce is returned for the caller to check (a batch shares one).
 *
 * Verified with node:crypto rather than jose: on this path jose's WebCrypto key import cost more
 * than everything else in the check together (see BENCHMARKS.md).
 */
export async function verifyProof(
  jwt: string,
  options: { audience: string; maxAgeSeconds: number; clockSkewSeconds: number; now?: Date },
): Promise<VerifiedProof> {
  if (jwt.length > MAX_PROOF_LENGTH) throw invalidProof('The proof is too large');
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw invalidProof('The proof is not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader, 'header');

  if (header.typ !== PROOF_TYP) throw invalidProof(`The proof's typ must be ${PROOF_TYP}`);
  if (!PROOF_SIGNING_ALGS.includes(header.alg as never)) throw invalidProof(`The proof's alg must be one of ${PROOF_SIGNING_ALGS.join(', ')}`);
  if (header.crit !== undefined) throw invalidProof('The proof has a crit header this issuer does not understand');
  // Appendix F.1: exactly one of kid, jwk, x5c (and trust_chain) names the key; this issuer binds to a jwk.
  const otherKeyMembers = KEY_HEADER_MEMBERS.filter((member) => member !== 'jwk' && Object.hasOwn(header, member));
  if (otherKeyMembers.length) throw invalidProof(`The proof header must name its key by jwk alone, not also by ${otherKeyMembers.join(', ')}`);
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw invalidProof('The proof must carry the holder key in a jwk header');
  if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw invalidProof('The jwk header contains private key material');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !isCoordinate(jwk.x) || !isCoordinate(jwk.y)) {
    throw invalidProof('The jwk header must be a P-256 EC public key, x and y each 32 bytes in unpadded base64url (RFC 7518 §6.2.1)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
  } catch {
    throw invalidProof('The jwk header is not a valid P-256 public key');
  }
  // The coordinates are canonical (checked above) and on the curve (the import checked): cnf.jwk and
  // the RFC 7638 thumbprint are made of them and nothing else the wallet sent.
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } as const;
  const signature = Buffer.from(encodedSignature, 'base64url');
  const signed =
    signature.length === 64 && verify('sha256', Buffer.from(`${encodedHeader}.${encodedPayload}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
  if (!signed) throw invalidProof('The proof signature is invalid');

  const payload = decodeJson(encodedPayload, 'payload');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(options.audience)) throw invalidProof(`The proof's aud must be ${options.audience}`);
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const skew = options.clockSkewSeconds;
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw invalidProof('The proof must have a numeric iat');
  if (payload.iat > now + skew) throw invalidProof('The proof iat is in the future');
  if (now - payload.iat > options.maxAgeSeconds + skew) throw invalidProof('The proof is too old (iat)');
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || payload.exp <= now - skew)) throw invalidProof('The proof has expired (exp)');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + skew)) throw invalidProof('The proof is not yet valid (nbf)');
  return { jwk: publicJwk, thumbprint: ecThumbprint(publicJwk), nonce: payload.nonce };
}
