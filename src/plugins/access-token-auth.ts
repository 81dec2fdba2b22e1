import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { App } from '../context.js';
import { storedSecret } from '../crypto/stored-secrets.js';
import type { AccessTokenGrant } from '../credentials/store.js';
import { OAuthError } from '../errors/oauth.js';
import { DpopRefused, checkDpopProof, issueDpopNonce } from '../oauth/dpop.js';
import { consumeDpopProof } from '../oauth/store.js';
import { DPOP_SIGNING_ALGS } from '../protocol.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Wallet-facing resources (credential, notification): the request must carry an access token. */
    accessToken?: true;
  }
  interface FastifyRequest {
    /** What the access token grants, on routes with `config.accessToken`. */
    accessGrant?: AccessTokenGrant;
  }
}

const AUTHORIZATION = /^(Bearer|DPoP) ([\w.~+/-]{1,512}=*)$/i;

/**
 * Access tokens at the wallet-facing resources (RFC 6750, RFC 9449 §7): `Authorization: Bearer`, or
 * `Authorization: DPoP` with a DPoP proof of the key a DPoP-bound token is bound to. Checked before
 * the body is read, so a bad token is a 401 whatever the body holds; failed attempts count towards
 * the per-address brake (http/auth-throttle.ts). Errors carry the WWW-Authenticate challenge of the
 * scheme, and a JSON body (some wallets need one to retry).
 */
export const accessTokenAuth = fp(
  async (app: App) => {
    const { ctx } = app;
    const realm = `realm="${ctx.config.publicUrl}"`;
    const origin = new URL(ctx.config.publicUrl).origin;
    const bearerChallenge = (error?: string, description?: string) =>
      ['Bearer', [realm, error && `error="${error}"`, description && `error_description="${description}"`].filter(Boolean).join(', ')].join(' ');
    const dpopChallenge = (error?: string) => `DPoP ${[realm, error && `error="${error}"`, `algs="${DPOP_SIGNING_ALGS.join(' ')}"`].filter(Boolean).join(', ')}`;
    const refuse = (request: FastifyRequest, error: OAuthError) => {
      app.authThrottle.recordFailure(request.ip);
      return error;
    };
    const invalidToken = (request: FastifyRequest, description: string, scheme: 'Bearer' | 'DPoP') =>
      refuse(
        request,
        new OAuthError('invalid_token', description, 401, {
          'www-authenticate': scheme === 'DPoP' ? dpopChallenge('invalid_token') : bearerChallenge('invalid_token', description),
        }),
      );

    app.addHook('onRequest', async (request) => {
      if (!request.routeOptions.config.accessToken) return;
      const retryAfter = app.authThrottle.retryAfterSeconds(request.ip);
      if (retryAfter) {
        throw new OAuthError('temporarily_unavailable', 'Too many failed authentication attempts from this address; retry later', 429, { 'retry-after': String(retryAfter) });
      }
      const authorization = request.headers.authorization;
      if (!authorization) {
        // RFC 6750 §3.1: a request without credentials gets the challenge, without an error code.
        throw refuse(request, new OAuthError('invalid_token', 'An access token is required', 401, { 'www-authenticate': `${bearerChallenge()}, ${dpopChallenge()}` }));
      }
      const match = AUTHORIZATION.exec(authorization);
      if (!match) throw invalidToken(request, 'Authorization must be Bearer <access token> or DPoP <access token>', 'Bearer');
      const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
      const token = match[2]!;
      // Under the current SECRET first; one made before it was rotated, under SECRET_PREVIOUS.
      let grant;
      for (const keys of ctx.secrets.all) if ((grant = await ctx.findAccessToken(storedSecret.accessToken(keys, token)))) break;
      if (!grant) throw invalidToken(request, 'Unknown access token', scheme);
      if (grant.revoked) throw invalidToken(request, 'The access token has been revoked', scheme);
      if (grant.expired) throw invalidToken(request, 'The access token has expired', scheme);
      if (!grant.dpop_jkt) {
        if (scheme === 'DPoP') throw invalidToken(request, 'This access token is not DPoP-bound: send it as Bearer', 'DPoP');
      } else {
        // RFC 9449 §7.2: a DPoP-bound token only with the DPoP scheme and a proof of its key.
        if (scheme !== 'DPoP') throw invalidToken(request, 'This access token is DPoP-bound: send Authorization: DPoP with a DPoP proof', 'DPoP');
        try {
          const proof = checkDpopProof(ctx.secrets, request.headers.dpop, {
            method: request.method,
            url: `${origin}${request.routeOptions.url}`,
            accessToken: token,
            clockSkewSeconds: ctx.config.credentials.clockSkewSeconds,
          });
          if (proof.jkt !== grant.dpop_jkt) throw new DpopRefused('invalid_dpop_proof', 'The DPoP proof is not signed by the key this access token is bound to');
          if (!(await consumeDpopProof(ctx.pool, proof.replay))) throw new DpopRefused('invalid_dpop_proof', 'This DPoP proof was used before');
        } catch (error) {
          if (!(error instanceof DpopRefused)) throw error;
          const headers: Record<string, string> = { 'www-authenticate': dpopChallenge(error.reason) };
          if (error.reason === 'use_dpop_nonce') headers['dpop-nonce'] = issueDpopNonce(ctx.secrets);
          throw refuse(request, new OAuthError(error.reason, error.message, 401, headers));
        }
      }
      request.accessGrant = grant;
    });
  },
  { name: 'access-token-auth' },
);
