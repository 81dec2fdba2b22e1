import type pg from 'pg';
import type { Config } from '../config.js';
import { randomSecret, type SecretKeys } from '../crypto/secrets.js';
import type { EventContext, EventKind } from '../events/record.js';
import { OAuthError } from '../http/oauth-errors.js';
import { PRE_AUTHORIZED_GRANT, hashPreAuthorizedCode, hashTransactionCode } from '../offers/create-offer.js';
import { newRowId } from '../db/ids.js';
import { issueNonce } from './nonce.js';
import { findOfferByCode, redeemPreAuthorizedCode, revokeTokensOfOffer } from './store.js';

export const hashAccessToken = (secrets: SecretKeys, token: string) => secrets.hash('access-token', token);

export interface TokenRequest {
  grant_type: string;
  'pre-authorized_code'?: string;
  tx_code?: string;
  /** Draft 11 and earlier called it user_pin. */
  user_pin?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  c_nonce: string;
  c_nonce_expires_in: number;
}

/** An OAuthError whose FAIL event the redemption statement has already written. */
class RecordedOAuthError extends OAuthError {
  readonly eventRecorded = true;
}

/** Token endpoint, pre-authorized code grant (OID4VCI 1.0 §6). */
export async function exchangePreAuthorizedCode(
  deps: { pool: pg.Pool; secrets: SecretKeys; config: Config },
  request: TokenRequest,
  event: EventKind & EventContext,
): Promise<TokenResponse> {
  if (request.grant_type !== PRE_AUTHORIZED_GRANT) throw new OAuthError('unsupported_grant_type', `grant_type must be ${PRE_AUTHORIZED_GRANT}`);
  const code = request['pre-authorized_code'];
  if (!code) throw new OAuthError('invalid_request', 'pre-authorized_code is required');
  const txCode = request.tx_code ?? request.user_pin;

  const { secrets, config } = deps;
  const codeHash = hashPreAuthorizedCode(secrets, code);
  const accessToken = randomSecret(32);
  const tokenId = newRowId();
  const redeemed = await redeemPreAuthorizedCode(deps.pool, {
    codeHash,
    txCodeHash: txCode === undefined ? null : hashTransactionCode(secrets, code, txCode),
    maxAttempts: config.offers.txCodeMaxAttempts,
    token: { id: tokenId, hash: hashAccessToken(secrets, accessToken), expiresInSeconds: config.oauth.accessTokenExpiresInSeconds },
    event,
  });

  if (redeemed?.status === 'redeemed') {
    // Draft 13 wallets take the c_nonce from here; 1.0 wallets call the nonce endpoint.
    const { nonce } = issueNonce(secrets, config.oauth.cNonceExpiresInSeconds);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: config.oauth.accessTokenExpiresInSeconds,
      c_nonce: nonce,
      c_nonce_expires_in: config.oauth.cNonceExpiresInSeconds,
    };
  }
  if (redeemed) {
    throw new RecordedOAuthError(
      'invalid_grant',
      redeemed.status === 'locked' ? 'Wrong transaction code; too many attempts, the offer is now locked' : 'Wrong transaction code',
    );
  }

  const offer = await findOfferByCode(deps.pool, codeHash);
  if (!offer) throw new OAuthError('invalid_grant', 'Unknown pre-authorized code');
  switch (offer.status) {
    case 'redeemed': {
      await revokeTokensOfOffer(deps.pool, offer.id);
      throw new OAuthError('invalid_grant', 'The pre-authorized code has already been used');
    }
    case 'revoked':
      throw new OAuthError('invalid_grant', 'The offer has been revoked');
    case 'locked':
      throw new OAuthError('invalid_grant', 'The offer is locked after too many wrong transaction codes');
  }
  if (offer.expired) throw new OAuthError('invalid_grant', 'The pre-authorized code has expired');
  if (offer.tx_code_required && txCode === undefined) throw new OAuthError('invalid_request', 'tx_code is required for this offer');
  if (!offer.tx_code_required && txCode !== undefined) throw new OAuthError('invalid_request', 'tx_code was not expected for this offer');
  // Pending when we looked again: another request changed it in between; treat as used.
  throw new OAuthError('invalid_grant', 'The pre-authorized code could not be redeemed');
}
