import { z } from 'zod';
import type { App } from '../context.js';
import { issueNonce } from '../crypto/c-nonce.js';
import { OAuthError } from '../errors/oauth.js';
import { oauthErrorSchema } from '../errors/render.js';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../protocol.js';
import { issueDpopNonce } from './dpop.js';
import { TOKEN_EVENTS, exchangePreAuthorizedCode } from './token.js';

// Unknown parameters are ignored (RFC 6749 §3.2); a repeated one arrives as an array and fails here.
const tokenRequestSchema = z
  .looseObject({
    grant_type: z.string().max(200),
    'pre-authorized_code': z.string().min(1).max(512).optional(),
    tx_code: z.string().max(64).optional(),
    user_pin: z.string().max(64).optional(),
  })
  .meta({
    id: 'TokenRequest',
    examples: [{ grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': 'SplxlOBeZQQYbYS6WxSbIA', tx_code: '493536' }],
  });

const tokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.enum(['Bearer', 'DPoP']).describe('DPoP when the request carried a DPoP proof: the token is bound to its key'),
    expires_in: z.number().int(),
    c_nonce: z.string().describe('For draft 13 wallets; 1.0 wallets use the nonce endpoint'),
    c_nonce_expires_in: z.number().int(),
  })
  .meta({ id: 'TokenResponse' });

const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** The token and nonce endpoints; registered inside the wallet-facing scope, under PUBLIC_URL's path. */
export async function oauthRoutes(app: App) {
  const perMinute = app.ctx.config.oauth.rateLimitPerMinute;
  const rateLimit = perMinute > 0 ? { max: perMinute, timeWindow: 60_000 } : false;
  app.post(
    WALLET_PATHS.token,
    {
      config: { event: TOKEN_EVENTS.create, oauthValidationError: 'invalid_request', rateLimit, crossOrigin: 'wallet' },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'Token endpoint: redeem a pre-authorized code (and transaction code) for an access token',
        consumes: ['application/x-www-form-urlencoded'],
        body: tokenRequestSchema,
        response: { 200: tokenResponseSchema, 400: oauthErrorSchema },
      },
      preValidation: async (request) => {
        // Media types are case-insensitive (RFC 9110 §8.3.1).
        if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          throw new OAuthError('invalid_request', 'The token request must be application/x-www-form-urlencoded');
        }
      },
    },
    async (request, reply) => {
      const response = await exchangePreAuthorizedCode(app.ctx, request.audit, request.body, request.headers.dpop);
      // A nonce for the DPoP proof of the next request (RFC 9449 §8.2), so the wallet need not be refused first.
      if (response.token_type === 'DPoP') reply.header('dpop-nonce', issueDpopNonce(app.ctx.secrets));
      return reply.headers(noStore).send(response);
    },
  );

  app.post(
    WALLET_PATHS.nonce,
    {
      config: { rateLimit, crossOrigin: 'wallet' },
      schema: {
        tags: ['OpenID4VCI'],
        summary: 'Nonce endpoint: a fresh, single-use c_nonce for key proofs (OID4VCI 1.0 §7)',
        response: { 200: z.object({ c_nonce: z.string() }).meta({ id: 'NonceResponse' }) },
      },
    },
    async (_request, reply) => reply.headers(noStore).send({ c_nonce: issueNonce(app.ctx.secrets, app.ctx.config.oauth.cNonceExpiresInSeconds).nonce }),
  );
}
