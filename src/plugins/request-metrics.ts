import fp from 'fastify-plugin';
import type { App } from '../context.js';

/** Every answered request counted by route pattern and status class, timed, and an OAuth error counted by its code. */
export const requestMetrics = fp(
  async (app: App) => {
    const { metrics } = app.ctx;
    app.addHook('onResponse', async (request, reply) => {
      metrics.request(request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime);
      if (request.failure?.oauth) metrics.oauthError(request.failure.code);
    });
  },
  { name: 'request-metrics', dependencies: ['request-logging'] },
);
