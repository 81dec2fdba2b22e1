import { randomUUID } from 'node:crypto';
import { hashApiKey } from '../src/auth/api-keys.js';
import { findActiveApiKey } from '../src/auth/store.js';
import type { Config } from '../src/config.js';
import { findAccessToken, recordIssuance } from '../src/credentials/store.js';
import type { SecretKeys } from '../src/crypto/secrets.js';
import type { DatabaseHandle } from '../src/db/database.js';
import { createOffer } from '../src/offers/create-offer.js';
import { issueNonce, checkNonce } from '../src/oauth/nonce.js';
import { redeemPreAuthorizedCode } from '../src/oauth/store.js';
import { hashAccessToken } from '../src/oauth/token.js';
import { hashPreAuthorizedCode } from '../src/offers/create-offer.js';

/**
 * Ceiling 2: the database statements one complete flow commits, issued straight through `pg` by
 * calling the service's own store functions (so they are the exact statements), without HTTP,
 * signing or proof verification.
 */
export async function sqlFlow(
  deps: { database: DatabaseHandle; config: Config; secrets: SecretKeys },
  input: { apiKey: string; configurationId: string; claims: Record<string, string> },
): Promise<void> {
  const { database, config, secrets } = deps;
  const { db, pool } = database;
  // Management request: API key look-up, then the offer statement with its events.
  const principal = await findActiveApiKey(db, hashApiKey(secrets, input.apiKey));
  if (!principal) throw new Error('API key not found');
  const offer = await createOffer(
    { db, pool, config, secrets },
    { credentials: [input.configurationId], claims: input.claims },
    { type: 'OPENID_PRE_AUTHORIZED_OFFER_CREATE', category: 'OpenId', requestId: randomUUID(), actor: principal.id },
  );
  const code = JSON.parse(decodeURIComponent(offer.uri.split('credential_offer=')[1]!)).grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];

  // Token: one statement.
  const token = `bench-${randomUUID()}`;
  const redeemed = await redeemPreAuthorizedCode(pool, {
    codeHash: hashPreAuthorizedCode(secrets, code),
    txCodeHash: null,
    maxAttempts: config.offers.txCodeMaxAttempts,
    token: { id: randomUUID(), hash: hashAccessToken(secrets, token), expiresInSeconds: 300 },
    event: { type: 'OPENID_TOKEN_CREATE', category: 'OpenId', requestId: randomUUID(), actor: null },
  });
  if (redeemed?.status !== 'redeemed') throw new Error('redemption failed');

  // Nonce: no statement. Credential: token look-up, configuration, issuance transaction.
  const nonce = checkNonce(secrets, issueNonce(secrets, 300).nonce);
  if (!nonce.valid) throw new Error('nonce');
  const grant = await findAccessToken(pool, hashAccessToken(secrets, token));
  if (!grant) throw new Error('token not found');
  const configuration = grant.configurations.find((c) => c.id === input.configurationId);
  if (!configuration) throw new Error('configuration not found');
  const outcome = await recordIssuance(pool, {
    accessTokenId: grant.id,
    offerId: grant.offer_id,
    userId: grant.user_id,
    configurationId: configuration.id,
    nonces: [{ hash: nonce.hash, expiresAt: nonce.expiresAt }],
    credentials: [{ id: randomUUID(), holderKeyThumbprint: 'bench', hash: 'bench', issuerKid: 'bench', expiresAt: null }],
    event: { type: 'OPENID_CREDENTIAL_ISSUE', category: 'OpenId', requestId: randomUUID(), actor: null },
  });
  if (outcome !== 'issued') throw new Error(`issuance ${outcome}`);
}
