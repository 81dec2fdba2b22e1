import type { AppContext } from '../context.js';
import { issueNonce } from '../crypto/c-nonce.js';
import { randomSecret } from '../crypto/secrets.js';
import { storedSecret } from '../crypto/stored-secrets.js';
import { newRowId } from '../db/ids.js';
import { skipFailureEvent } from '../errors/domain.js';
import { OAuthError } from '../errors/oauth.js';
import type { AuditContext, EventKind } from '../events/audit.js';
import type { RedemptionOutcome } from '../metrics/metrics.js';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../protocol.js';
import { DpopRefused, checkDpopProof, issueDpopNonce } from './dpop.js';
import { consumeDpopProof, findOfferByCode, redeemPreAuthorizedCode, revokeTokensOfOffer } from './store.js';

export const TOKEN_EVENTS = {
  create: { type: 'OPENID_TOKEN_CREATE', category: 'OpenId' },
} as const satisfies Record<string, EventKind>;

export interface TokenRequest {
  grant_type: string;
  'pre-authorized_code'?: string;
  tx_code?: string;
  /** Draft 11 and earlier called it user_pin. */
  user_pin?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  c_nonce: string;
  c_nonce_expires_in: number;
}

/**
 * A DPoP proof sent with the token request (RFC 9449 §5): checked and spent, its key's thumbprint is
 * what the access token is bound to. Without one the token is a Bearer token, unless DPOP=required.
 */
async function dpopBinding(ctx: Pick<AppContext, 'pool' | 'secrets' | 'config'>, proof: string | string[] | undefined): Promise<string | null> {
  if (proof === undefined && ctx.config.oauth.dpop === 'optional') return null;
  try {
    const checked = checkDpopProof(ctx.secrets, proof, {
      method: 'POST',
      url: `${ctx.config.publicUrl}${WALLET_PATHS.token}`,
      clockSkewSeconds: ctx.config.credentials.clockSkewSeconds,
    });
    if (!(await consumeDpopProof(ctx.pool, checked.replay))) throw new DpopRefused('invalid_dpop_proof', 'This DPoP proof was used before');
    return checked.jkt;
  } catch (error) {
    if (!(error instanceof DpopRefused)) throw error;
    // RFC 9449 §8: the client is told the nonce to use, and retries.
    const headers: Record<string, string> = error.reason === 'use_dpop_nonce' ? { 'dpop-nonce': issueDpopNonce(ctx.secrets) } : {};
    throw new OAuthError(error.reason, error.message, 400, headers);
  }
}

/** Token endpoint, pre-authorized code grant (OID4VCI 1.0 §6), with DPoP when the wallet sends a proof. */
export async function exchangePreAuthorizedCode(
  ctx: Pick<AppContext, 'pool' | 'secrets' | 'config' | 'metrics'>,
  audit: AuditContext,
  request: TokenRequest,
  dpopProof?: string | string[],
): Promise<TokenResponse> {
  if (request.grant_type !== PRE_AUTHORIZED_GRANT) throw new OAuthError('unsupported_grant_type', `grant_type must be ${PRE_AUTHORIZED_GRANT}`);
  const code = request['pre-authorized_code'];
  if (!code) throw new OAuthError('invalid_request', 'pre-authorized_code is required');
  const txCode = request.tx_code ?? request.user_pin;
  const dpopJkt = await dpopBinding(ctx, dpopProof);

  const { secrets, config } = ctx;
  const accessToken = randomSecret(32);
  const token = { id: newRowId(), hash: storedSecret.accessToken(secrets, accessToken), secretKeyId: secrets.keyId, expiresInSeconds: config.oauth.accessTokenExpiresInSeconds, dpopJkt };
  // The code's and the transaction code's hashes under each secret, the current one first: an offer
  // made before SECRET was rotated is found under SECRET_PREVIOUS (the second try costs only then).
  const hashes = secrets.all.map((keys) => ({
    codeHash: storedSecret.preAuthorizedCode(keys, code),
    txCodeHash: txCode === undefined ? null : storedSecret.transactionCode(keys, code, txCode),
  }));
  let redeemed;
  for (const { codeHash, txCodeHash } of hashes) {
    redeemed = await redeemPreAuthorizedCode(ctx.pool, { codeHash, txCodeHash, maxAttempts: config.offers.txCodeMaxAttempts, token, event: { kind: TOKEN_EVENTS.create, audit } });
    if (redeemed) break;
  }

  if (redeemed?.status === 'redeemed') {
    ctx.metrics.tokenRedemption('success');
    // Draft 13 wallets take the c_nonce from here; 1.0 wallets call the nonce endpoint.
    const { nonce } = issueNonce(secrets, config.oauth.cNonceExpiresInSeconds);
    return {
      access_token: accessToken,
      token_type: dpopJkt ? 'DPoP' : 'Bearer',
      expires_in: config.oauth.accessTokenExpiresInSeconds,
      c_nonce: nonce,
      c_nonce_expires_in: config.oauth.cNonceExpiresInSeconds,
    };
  }
  if (redeemed) {
    ctx.metrics.tokenRedemption(redeemed.status === 'locked' ? 'locked' : 'wrong_tx_code');
    // The redemption statement counted the attempt, and returned the count, and recorded its FAIL event.
    const left = Math.max(config.offers.txCodeMaxAttempts - redeemed.failed_attempts, 0);
    const description =
      redeemed.status === 'locked'
        ? 'Wrong transaction code; too many attempts, the offer is now locked'
        : `Wrong transaction code; ${left} ${left === 1 ? 'attempt' : 'attempts'} left before the offer is locked`;
    throw skipFailureEvent(new OAuthError('invalid_grant', description), 'recorded with the change');
  }

  let offer;
  for (const { codeHash, txCodeHash } of hashes) if ((offer = await findOfferByCode(ctx.pool, codeHash, txCodeHash))) break;
  const refuse = (outcome: RedemptionOutcome, error: OAuthError) => {
    ctx.metrics.tokenRedemption(outcome);
    return error;
  };
  if (!offer) throw refuse('unknown_code', skipFailureEvent(new OAuthError('invalid_grant', 'Unknown pre-authorized code'), 'names nothing that exists'));
  switch (offer.status) {
    case 'redeemed': {
      // A replay means the code leaked: revoke what the first redemption issued (RFC 6749 §4.1.2, by
      // analogy), but only when the replay knew the transaction code too. Anyone who merely saw the
      // QR code could otherwise cancel the holder's issuance.
      if (offer.tx_code_known) await revokeTokensOfOffer(ctx.pool, offer.id);
      throw refuse('replay', new OAuthError('invalid_grant', 'The pre-authorized code has already been used'));
    }
    case 'revoked':
      throw refuse('revoked', new OAuthError('invalid_grant', 'The offer has been revoked'));
    case 'locked':
      throw refuse('locked', new OAuthError('invalid_grant', 'The offer is locked after too many wrong transaction codes'));
  }
  if (offer.expired) throw refuse('expired', new OAuthError('invalid_grant', 'The pre-authorized code has expired'));
  if (offer.tx_code_required && txCode === undefined) throw refuse('invalid_request', new OAuthError('invalid_request', 'tx_code is required for this offer'));
  if (!offer.tx_code_required && txCode !== undefined) throw refuse('invalid_request', new OAuthError('invalid_request', 'tx_code was not expected for this offer'));
  // Pending when we looked again: another request changed it in between; treat as used.
  throw refuse('replay', new OAuthError('invalid_grant', 'The pre-authorized code could not be redeemed'));
}
