import fp from 'fastify-plugin';
import helmet from 'helmet';
import type { Config } from '../config.js';
import type { App } from '../context.js';

/**
 * The API answers JSON, never pages: no content may be framed, sniffed, sent a referrer or read by
 * another origin's page without CORS. HSTS only when the issuer is served over https (a browser would
 * otherwise pin http://localhost to https). The headers that only matter for HTML documents (DNS
 * prefetch, downloads, Flash policies, the XSS auditor, origin-keyed agent clusters, opener policy)
 * are left out. The documentation UI at /docs loads scripts and styles of its own, so no
 * Content-Security-Policy.
 */
function helmetOptions(config: Pick<Config, 'publicUrl'>) {
  return {
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: new URL(config.publicUrl).protocol === 'https:' ? { maxAge: 31_536_000, includeSubDomains: true } : (false as const),
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  } as const;
}

/**
 * The headers helmet sets with these options, recorded once. They are the same for every response,
 * so they are worked out at start: @fastify/helmet builds helmet's middleware again on every request,
 * which the benchmark measured at about 2 % of a wallet flow's CPU (BENCHMARKS.md). The responses
 * written before any hook runs (a URL Fastify cannot route, bytes that are not HTTP) use them too.
 */
export function securityHeaderValues(config: Pick<Config, 'publicUrl'>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet(helmetOptions(config))({} as never, recorder as never, () => {});
  return headers;
}

/** Security headers (helmet's) on every response; no response is cached unless its route says so. */
export const securityHeaders = fp(
  async (app: App) => {
    const headers = securityHeaderValues(app.ctx.config);
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(headers);
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });
  },
  { name: 'security-headers' },
);
