import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * A compact JWS signed by the key its own `jwk` header carries: what OpenID4VCI key proofs (Appendix
 * F.1) and DPoP proofs (RFC 9449 §4.2) both are. This checks the part they share: the `typ`, an
 * ES256 `alg`, no `crit`, a public P-256 `jwk` in canonical form as the only name of the key, and the
 * signature. What the payload must say is the caller's.
 *
 * Verified with node:crypto rather than jose: on this path jose's WebCrypto key import cost more
 * than everything else in the check together (see BENCHMARKS.md).
 */
export interface SelfSignedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The signer's public key, its members and nothing else the sender wrote. */
  jwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  /** RFC 7638 thumbprint of `jwk`. */
  thumbprint: string;
}

/** Why a JWT was refused, in words for an error description (the caller picks the error code). */
export class JwtRefused extends Error {}

const MAX_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const KEY_HEADER_MEMBERS = ['jwk', 'kid', 'x5c', 'trust_chain'];

/** A P-256 coordinate as RFC 7518 §6.2.1 writes it: 32 bytes, unpadded base64url, nothing else (no padding, no other alphabet). */
const isCoordinate = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value;

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new JwtRefused(`its ${what} is not a JSON object`);
}

/** RFC 7638 §3.2: the members of an EC key in lexicographic order, no white space. */
export function ecThumbprint(jwk: { crv: string; x: string; y: string }): string {
  return createHash('sha256').update(`{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`).digest('base64url');
}

export function verifySelfSignedJwt(jwt: string, options: { typ: string; algs: readonly string[] }): SelfSignedJwt {
  if (jwt.length > MAX_LENGTH) throw new JwtRefused('it is too large');
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new JwtRefused('it is not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader, 'header');

  if (header.typ !== options.typ) throw new JwtRefused(`its typ must be ${options.typ}`);
  if (!options.algs.includes(header.alg as never)) throw new JwtRefused(`its alg must be one of ${options.algs.join(', ')}`);
  if (header.crit !== undefined) throw new JwtRefused('it has a crit header this issuer does not understand');
  const otherKeyMembers = KEY_HEADER_MEMBERS.filter((member) => member !== 'jwk' && Object.hasOwn(header, member));
  if (otherKeyMembers.length) throw new JwtRefused(`its header must name its key by jwk alone, not also by ${otherKeyMembers.join(', ')}`);
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new JwtRefused('it must carry its key in a jwk header');
  if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw new JwtRefused('its jwk header contains private key material');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !isCoordinate(jwk.x) || !isCoordinate(jwk.y)) {
    throw new JwtRefused('its jwk header must be a P-256 EC public key, x and y each 32 bytes in unpadded base64url (RFC 7518 §6.2.1)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
  } catch {
    throw new JwtRefused('its jwk header is not a valid P-256 public key');
  }
  const signature = Buffer.from(encodedSignature, 'base64url');
  const signed = signature.length === 64 && verify('sha256', Buffer.from(`${encodedHeader}.${encodedPayload}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
  if (!signed) throw new JwtRefused('its signature is invalid');

  // The coordinates are canonical (checked above) and on the curve (the import checked).
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } as const;
  return { header, payload: decodeJson(encodedPayload, 'payload'), jwk: publicJwk, thumbprint: ecThumbprint(publicJwk) };
}
