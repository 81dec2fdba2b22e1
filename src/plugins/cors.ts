import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config, CorsOrigins } from '../config.js';
import type { App } from '../context.js';
import { WALLET_PATHS } from '../protocol.js';

/** Which CORS policy a path gets: public documents, the wallet's calls, or none (management, health). */
export type CorsPolicy = 'public' | 'wallet' | 'closed';

/**
 * Browser wallets call the issuer from their own origin. Public documents (metadata, offers by
 * reference) are readable from anywhere by default; the token, nonce and credential endpoints from
 * CORS_WALLET_ORIGINS (`*` by default: they take no cookies, only tokens a page must hold already, so
 * a page gains nothing a script outside a browser could not do). The management API stays closed:
 * its preflights are 404s and its answers carry no Access-Control-Allow-Origin.
 *
 * Decided by path rather than by route, because a preflight (OPTIONS) reaches no route of its own.
 */
export function corsPolicyOf(config: Pick<Config, 'publicUrl'>): (path: string) => CorsPolicy {
  const prefix = new URL(config.publicUrl).pathname.replace(/\/$/, '');
  const walletEndpoints = new Set([WALLET_PATHS.token, WALLET_PATHS.nonce, WALLET_PATHS.credential].map((path) => prefix + path));
  const publicPrefixes = ['/.well-known/', `${prefix}/.well-known/`, `${prefix}${WALLET_PATHS.credentialOffer}/`];
  return (path) => {
    if (walletEndpoints.has(path)) return 'wallet';
    if (publicPrefixes.some((start) => path.startsWith(start))) return 'public';
    return 'closed';
  };
}

// Headers a wallet reads from answers: DPoP nonces (RFC 9449 §8), challenges (RFC 6750 §3), back-off.
const EXPOSED_HEADERS = ['DPoP-Nonce', 'WWW-Authenticate', 'Retry-After'];

const options = (origin: CorsOrigins, methods: string[], allowedHeaders?: string[]): FastifyCorsOptions =>
  origin === false ? { origin: false } : { origin, methods, ...(allowedHeaders && { allowedHeaders }), exposedHeaders: EXPOSED_HEADERS, maxAge: 600, credentials: false };

async function plugin(app: App) {
  const { config } = app.ctx;
  const policyOf = corsPolicyOf(config);
  const byPolicy: Record<CorsPolicy, FastifyCorsOptions> = {
    public: options(config.cors.publicOrigins, ['GET', 'HEAD']),
    wallet: options(config.cors.walletOrigins, ['POST'], ['Authorization', 'Content-Type', 'DPoP']),
    closed: { origin: false },
  };
  await app.register(cors, {
    hideOptionsRoute: true,
    delegator: (request: FastifyRequest, callback: (error: Error | null, options: FastifyCorsOptions) => void) =>
      callback(null, byPolicy[policyOf(request.url.split('?', 1)[0]!)]),
  });
}

export const corsPolicies = fp(plugin, { name: 'cors-policies' });
