import { createHash } from 'node:crypto';
import { checkNonce, issueNonce } from '../crypto/c-nonce.js';
import { constantTimeEqual, type SecretKeys } from '../crypto/secrets.js';
import { JwtRefused, verifySelfSignedJwt } from '../crypto/self-signed-jwt.js';
import { DPOP_SIGNING_ALGS } from '../protocol.js';

/** How long a DPoP proof (its iat) and a DPoP-Nonce this server hands out are good for. */
export const DPOP_PROOF_MAX_AGE_SECONDS = 300;
export const DPOP_NONCE_TTL_SECONDS = 300;

/** Why a DPoP proof was refused: the client must fetch a nonce first, or the proof is simply wrong. */
export class DpopRefused extends Error {
  constructor(
    readonly reason: 'use_dpop_nonce' | 'invalid_dpop_proof',
    description: string,
  ) {
    super(description);
  }
}

export interface CheckedDpopProof {
  /** RFC 7638 thumbprint of the proof's key: what a DPoP-bound access token is bound to (`cnf.jkt`). */
  jkt: string;
  /** The proof's jti, hashed, and until when it must not be seen again. */
  replay: { hash: Buffer; expiresAt: Date };
}

/** A fresh server nonce for DPoP proofs (RFC 9449 §8), checkable by any instance without a database. */
export const issueDpopNonce = (secrets: SecretKeys) => issueNonce(secrets, DPOP_NONCE_TTL_SECONDS, Date.now(), 'dpop').nonce;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** `htu` compared as RFC 9449 §4.3 says: without query and fragment. */
function sameUri(htu: unknown, expected: string): boolean {
  if (typeof htu !== 'string') return false;
  try {
    const url = new URL(htu);
    url.search = '';
    url.hash = '';
    return url.href === new URL(expected).href;
  } catch {
    return false;
  }
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3): a JWT of type dpop+jwt signed by the key in its jwk header,
 * for this method and URL, recent, carrying a nonce this server issued, and at a protected resource
 * the hash of the access token it goes with (`ath`). Single use of its `jti` is the caller's to
 * enforce (in the database, so that it holds across instances).
 */
export function checkDpopProof(
  secrets: SecretKeys,
  proof: string | string[] | undefined,
  expected: { method: string; url: string; accessToken?: string; clockSkewSeconds: number; now?: number },
): CheckedDpopProof {
  if (typeof proof !== 'string') throw new DpopRefused('invalid_dpop_proof', Array.isArray(proof) ? 'Send one DPoP header, not several' : 'A DPoP proof is required');
  let verified;
  try {
    verified = verifySelfSignedJwt(proof, { typ: 'dpop+jwt', algs: DPOP_SIGNING_ALGS });
  } catch (error) {
    if (error instanceof JwtRefused) throw new DpopRefused('invalid_dpop_proof', `The DPoP proof is refused: ${error.message}`);
    throw error;
  }
  const { payload } = verified;
  const now = expected.now ?? Date.now();
  const seconds = Math.floor(now / 1000);
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw new DpopRefused('invalid_dpop_proof', 'The DPoP proof needs a jti');
  if (payload.htm !== expected.method) throw new DpopRefused('invalid_dpop_proof', `The DPoP proof's htm must be ${expected.method}`);
  if (!sameUri(payload.htu, expected.url)) throw new DpopRefused('invalid_dpop_proof', `The DPoP proof's htu must be ${expected.url}`);
  if (typeof payload.iat !== 'number' || payload.iat > seconds + expected.clockSkewSeconds || seconds - payload.iat > DPOP_PROOF_MAX_AGE_SECONDS + expected.clockSkewSeconds) {
    throw new DpopRefused('invalid_dpop_proof', 'The DPoP proof is not recent (iat)');
  }
  if (expected.accessToken !== undefined && !(typeof payload.ath === 'string' && constantTimeEqual(Buffer.from(payload.ath), Buffer.from(sha256(expected.accessToken).toString('base64url'))))) {
    throw new DpopRefused('invalid_dpop_proof', "The DPoP proof's ath is not the hash of this access token");
  }
  const nonce = checkNonce(secrets, payload.nonce, now, 'dpop');
  if (!nonce.valid) throw new DpopRefused('use_dpop_nonce', `Use the DPoP-Nonce this server provides (${nonce.reason})`);
  return {
    jkt: verified.thumbprint,
    replay: { hash: sha256(`${verified.thumbprint}:${payload.jti}`), expiresAt: new Date((payload.iat + DPOP_PROOF_MAX_AGE_SECONDS + expected.clockSkewSeconds) * 1000) },
  };
}
