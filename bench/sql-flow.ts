import { randomUUID } from 'node:crypto';
import { authenticateApiKey } from '../src/auth/api-keys.js';
import type { AppContext } from '../src/context.js';
import { CREDENTIAL_EVENTS } from '../src/credentials/issue-credential.js';
import { checkNonce, issueNonce } from '../src/crypto/c-nonce.js';
import { storedSecret } from '../src/crypto/stored-secrets.js';
import { redeemPreAuthorizedCode } from '../src/oauth/store.js';
import { TOKEN_EVENTS } from '../src/oauth/token.js';
import { createOffer } from '../src/offers/use-cases.js';
import { preAuthorizedCodeOf } from '../test/support/client.js';

/**
 * Ceiling 2: the database work of one complete flow, done straight through `pg` by calling the
 * service's own functions (so these are the exact statements, with the same caches), without HTTP,
 * signing or proof verification.
 */
export async function sqlFlow(ctx: AppContext, input: { apiKey: string; configurationId: string; claims: Record<string, string> }): Promise<void> {
  const { config, secrets } = ctx;
  // Management request: the API key (cached while valid), then the offer statement with its events.
  const principal = await authenticateApiKey(ctx, input.apiKey, undefined);
  if (!principal) throw new Error('API key not found');
  const offer = await createOffer(ctx, { requestId: randomUUID(), actor: principal.keyId }, { credentials: [input.configurationId], claims: input.claims, byReference: false });
  const code = preAuthorizedCodeOf(offer.uri);

  // Token: one statement.
  const token = `bench-${randomUUID()}`;
  const redeemed = await redeemPreAuthorizedCode(ctx.pool, {
    codeHash: storedSecret.preAuthorizedCode(secrets, code),
    txCodeHash: null,
    maxAttempts: config.offers.txCodeMaxAttempts,
    token: { id: randomUUID(), hash: storedSecret.accessToken(secrets, token), secretKeyId: secrets.keyId, expiresInSeconds: 300, dpopJkt: null },
    event: { kind: TOKEN_EVENTS.create, audit: { requestId: randomUUID(), actor: null } },
  });
  if (redeemed?.status !== 'redeemed') throw new Error('redemption failed');

  // Nonce: no statement. Credential: the grant look-up, then the issuance statement.
  const nonce = checkNonce(secrets, issueNonce(secrets, 300).nonce);
  if (!nonce.valid) throw new Error('nonce');
  const grant = await ctx.findAccessToken(storedSecret.accessToken(secrets, token));
  const configuration = grant?.configurations.find((c) => c.id === input.configurationId);
  if (!grant || !configuration) throw new Error('token or configuration not found');
  const outcome = await ctx.recordIssuance({
    accessTokenId: grant.id,
    offerId: grant.offer_id,
    userId: grant.user_id,
    configurationId: configuration.id,
    format: configuration.format,
    type: configuration.type,
    nonces: [{ hash: nonce.hash, expiresAt: nonce.expiresAt }],
    credentials: [{ id: randomUUID(), holderKeyThumbprint: 'bench', hash: 'bench', issuerKid: 'bench', validFrom: new Date(), expiresAt: null, status: null }],
    notificationId: randomUUID(),
    again: false,
    event: { kind: CREDENTIAL_EVENTS.issue, audit: { requestId: randomUUID(), actor: null } },
  });
  if (outcome !== 'issued') throw new Error(`issuance ${outcome}`);
}
