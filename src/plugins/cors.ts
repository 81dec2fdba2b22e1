import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { CorsOrigins } from '../config.js';
import type { App } from '../context.js';

/** Who may call a route from a page of another origin: anyone it is public to, browser wallets, or nobody. */
export type CrossOrigin = 'public' | 'wallet' | 'closed';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Pages of other origins may call it: `public` documents (CORS_PUBLIC_ORIGINS), `wallet` endpoints (CORS_WALLET_ORIGINS). Absent: closed. */
    crossOrigin?: Exclude<CrossOrigin, 'closed'>;
  }
}

/**
 * The cross-origin policy of each path, from the routes that declare one. By path, because a
 * preflight (OPTIONS) reaches no route of its own: it asks about the route it names.
 */
export class CrossOriginRoutes {
  readonly #exact = new Map<string, CrossOrigin>();
  readonly #patterns: [RegExp, CrossOrigin][] = [];

  add(url: string, policy: CrossOrigin) {
    if (!/[:*]/.test(url)) return void this.#exact.set(url, policy);
    const pattern = url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+').replace(/\*/g, '.*');
    this.#patterns.push([new RegExp(`^${pattern}$`), policy]);
  }

  policyOf(path: string): CrossOrigin {
    return this.#exact.get(path) ?? this.#patterns.find(([pattern]) => pattern.test(path))?.[1] ?? 'closed';
  }
}

// Headers a wallet reads from answers: DPoP nonces (RFC 9449 §8), challenges (RFC 6750 §3), back-off.
const EXPOSED_HEADERS = ['DPoP-Nonce', 'WWW-Authenticate', 'Retry-After'];

const options = (origin: CorsOrigins, methods: string[], allowedHeaders?: string[]): FastifyCorsOptions =>
  origin === false
    ? { origin: false }
    : { origin, methods, ...(allowedHeaders && { allowedHeaders }), exposedHeaders: EXPOSED_HEADERS, maxAge: 600, credentials: false };

/**
 * Browser wallets call the issuer from their own origin. Public documents (metadata, offers by
 * reference, IACA certificates) are readable from anywhere by default; the token, nonce and
 * credential endpoints from CORS_WALLET_ORIGINS (`*` by default: they take no cookies, only tokens a
 * page must hold already, so a page gains nothing a script outside a browser could not do). Every
 * other route (the management API, health) is closed: its preflights are 404s and its answers carry
 * no Access-Control-Allow-Origin.
 */
async function plugin(app: App) {
  const { config } = app.ctx;
  const routes = new CrossOriginRoutes();
  app.addHook('onRoute', (route) => {
    if (route.config?.crossOrigin) routes.add(route.url, route.config.crossOrigin);
  });
  const byPolicy: Record<CrossOrigin, FastifyCorsOptions> = {
    public: options(config.cors.publicOrigins, ['GET', 'HEAD']),
    wallet: options(config.cors.walletOrigins, ['POST'], ['Authorization', 'Content-Type', 'DPoP']),
    closed: { origin: false },
  };
  await app.register(cors, {
    hideOptionsRoute: true,
    delegator: (request: FastifyRequest, callback: (error: Error | null, options: FastifyCorsOptions) => void) =>
      callback(null, byPolicy[routes.policyOf(request.url.split('?', 1)[0]!)]),
  });
}

export const corsPolicies = fp(plugin, { name: 'cors-policies' });
