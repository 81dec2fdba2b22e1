import fp from 'fastify-plugin';
import type { App } from '../context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The level of the route's request log line; health checks, polled every few seconds, log at debug. */
    requestLogLevel?: 'debug';
  }
}

/**
 * Query parameters whose values are logged: the filters and paging of the management lists. Anything
 * else (a key or a code someone pasted into a URL) is counted, never written to the log.
 */
const LOGGED_QUERY_PARAMETERS = new Set(['limit', 'cursor', 'status', 'userId', 'types', 'categories', 'dateFrom', 'dateTo']);

/** The URL as logged: its path, and the known query parameters; how many others there were. */
export function loggedUrl(url: string): { url: string; unloggedQueryParameters?: number } {
  const separator = url.indexOf('?');
  if (separator < 0) return { url };
  const logged = new URLSearchParams();
  let unlogged = 0;
  for (const [name, value] of new URLSearchParams(url.slice(separator + 1))) {
    if (LOGGED_QUERY_PARAMETERS.has(name)) logged.append(name, value);
    else unlogged++;
  }
  const query = logged.toString();
  return { url: query ? `${url.slice(0, separator)}?${query}` : url.slice(0, separator), ...(unlogged && { unloggedQueryParameters: unlogged }) };
}

/**
 * The request id is echoed in `X-Request-Id` (an incoming one is honoured, see http/server-options.ts),
 * and each request is logged once, when its response is sent; a refused one with the code its
 * answer carried and the reason (errors/render.ts).
 */
export const requestLogging = fp(
  async (app: App) => {
    app.decorateRequest('failure', null);
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    app.addHook('onResponse', async (request, reply) => {
      const level = request.routeOptions.config.requestLogLevel ?? 'info';
      const failure = request.failure;
      request.log[level](
        {
          method: request.method,
          ...loggedUrl(request.url),
          statusCode: reply.statusCode,
          responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
          ...(failure && { code: failure.code, reason: failure.reason }),
        },
        'request completed',
      );
    });
  },
  { name: 'request-logging' },
);
