import type { JWK } from 'jose';
import { JwtRefused, verifySelfSignedJwt } from '../crypto/self-signed-jwt.js';
import { OAuthError } from '../errors/oauth.js';
import { PROOF_SIGNING_ALGS, PROOF_TYP } from '../protocol.js';

export interface VerifiedProof {
  /** The holder's public key, public members only, for `cnf.jwk`. */
  jwk: JWK;
  thumbprint: string;
  nonce: unknown;
}

const invalidProof = (description: string) => new OAuthError('invalid_proof', description);

/**
 * Checks one JWT key proof (OID4VCI 1.0 §8.2.1.1, Appendix F.1): a JWT signed by the key its jwk
 * header carries (see crypto/self-signed-jwt.ts), `aud` = the Credential Issuer Identifier, and
 * `iat` within the window. The nonce is returned for the caller to check (a batch shares one).
 */
export async function verifyProof(
  jwt: string,
  options: { audience: string; maxAgeSeconds: number; clockSkewSeconds: number; now?: Date },
): Promise<VerifiedProof> {
  let verified;
  try {
    verified = verifySelfSignedJwt(jwt, { typ: PROOF_TYP, algs: PROOF_SIGNING_ALGS });
  } catch (error) {
    if (error instanceof JwtRefused) throw invalidProof(`The proof is refused: ${error.message}`);
    throw error;
  }
  const { payload } = verified;
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(options.audience)) throw invalidProof(`The proof's aud must be ${options.audience}`);
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const skew = options.clockSkewSeconds;
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw invalidProof('The proof must have a numeric iat');
  if (payload.iat > now + skew) throw invalidProof('The proof iat is in the future');
  if (now - payload.iat > options.maxAgeSeconds + skew) throw invalidProof('The proof is too old (iat)');
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || payload.exp <= now - skew)) throw invalidProof('The proof has expired (exp)');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + skew)) throw invalidProof('The proof is not yet valid (nbf)');
  return { jwk: verified.jwk, thumbprint: verified.thumbprint, nonce: payload.nonce };
}
