import type { OAuthErrorCode } from '../protocol.js';

/** An error of the wallet-facing endpoints, in the OAuth shape (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2). */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly statusCode = 400,
    readonly headers: Record<string, string> = {},
    /** More members of the error body, e.g. a fresh c_nonce with draft 13's invalid_proof. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description);
  }
}

/** RFC 6750 §3: a bad access token is a 401 with the reason in WWW-Authenticate. */
export function invalidToken(description: string): OAuthError {
  return new OAuthError('invalid_token', description, 401, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
  });
}
