import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { OAuthError } from '../http/oauth-errors.js';

export const PROOF_TYP = 'openid4vci-proof+jwt';
export const PROOF_SIGNING_ALGS = ['ES256'] as const;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const MAX_PROOF_LENGTH = 8192;

export interface VerifiedProof {
  /** The holder's public key, public members only, for `cnf.jwk`. */
  jwk: JWK;
  thumbprint: string;
  nonce: unknown;
}

const invalidProof = (description: string) => new OAuthError('invalid_proof', description);

/**
 * Checks one JWT key proof (OID4VCI 1.0 §8.2.1.1, Appendix F.1): typ, an advertised asymmetric alg,
 * a public `jwk` header, `aud` = the Credential Issuer Identifier, `iat` within the window, and the
 * signature. The nonce is returned for the caller to check (it is shared by a batch).
 */
export async function verifyProof(
  jwt: string,
  options: { audience: string; maxAgeSeconds: number; clockSkewSeconds: number; now?: Date },
): Promise<VerifiedProof> {
  if (jwt.length > MAX_PROOF_LENGTH) throw invalidProof('The proof is too large');
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw invalidProof('The proof is not a JWT');
  }
  if (header.typ !== PROOF_TYP) throw invalidProof(`The proof's typ must be ${PROOF_TYP}`);
  if (!PROOF_SIGNING_ALGS.includes(header.alg as never)) throw invalidProof(`The proof's alg must be one of ${PROOF_SIGNING_ALGS.join(', ')}`);
  if (header.crit !== undefined) throw invalidProof('The proof has a crit header this issuer does not understand');
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object') throw invalidProof('The proof must carry the holder key in a jwk header');
  if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw invalidProof('The jwk header contains private key material');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw invalidProof('The jwk header must be a P-256 EC public key');
  }
  const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };

  let payload;
  try {
    const key = await importJWK(publicJwk, 'ES256');
    ({ payload } = await jwtVerify(jwt, key, {
      algorithms: [...PROOF_SIGNING_ALGS],
      typ: PROOF_TYP,
      audience: options.audience,
      requiredClaims: ['iat', 'aud'],
      maxTokenAge: options.maxAgeSeconds,
      clockTolerance: options.clockSkewSeconds,
      currentDate: options.now,
    }));
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'The proof signature is invalid' : `The proof is invalid: ${(error as Error).message}`;
    throw invalidProof(reason);
  }
  const now = (options.now ?? new Date()).getTime() / 1000;
  if (typeof payload.iat !== 'number' || payload.iat > now + options.clockSkewSeconds) throw invalidProof('The proof iat is in the future');
  return { jwk: publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk), nonce: payload.nonce };
}
