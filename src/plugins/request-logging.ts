import fp from 'fastify-plugin';
import type { App } from '../context.js';

/**
 * The request id is echoed in `X-Request-Id` (an incoming one is honoured, see http/server-options.ts),
 * and each request is logged once, when its response is sent.
 */
export const requestLogging = fp(
  async (app: App) => {
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    app.addHook('onResponse', async (request, reply) => {
      // Query strings are logged for management routes only (filters, cursors); elsewhere a careless
      // wallet may put a code or token there, so only the path is logged.
      const url = request.routeOptions.config?.roles ? request.url : request.url.split('?')[0];
      request.log.info(
        { method: request.method, url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 10) / 10 },
        'request completed',
      );
    });
  },
  { name: 'request-logging' },
);
