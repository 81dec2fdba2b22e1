import type { OAuthErrorCode } from '../protocol.js';

/**
 * RFC 6749 §5.2: `error_description` holds %x20-21 / %x23-5B / %x5D-7E only (printable ASCII without
 * `"` and `\`), so that it also fits in a quoted WWW-Authenticate parameter (RFC 6750 §3).
 */
export function oauthDescription(text: string): string {
  return text.replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '');
}

/**
 * An error of the wallet-facing endpoints, in the OAuth shape (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2).
 * Its description never repeats what the request sent.
 */
export class OAuthError extends Error {
  readonly description: string;

  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    readonly statusCode = 400,
    readonly headers: Record<string, string> = {},
    /** More members of the error body, e.g. a fresh c_nonce with draft 13's invalid_proof. */
    readonly extra: Record<string, unknown> = {},
  ) {
    const safe = oauthDescription(description);
    super(safe);
    this.description = safe;
  }
}
