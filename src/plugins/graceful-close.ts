import fp from 'fastify-plugin';
import type { App } from '../context.js';

/**
 * Graceful stop: the server stops accepting and closes idle connections, but a keep-alive connection
 * that becomes idle after its in-flight response would hold `close()` open until the client drops it
 * (up to keepAliveTimeout, 72 s: past the shutdown deadline). Every response sent while closing
 * therefore closes its connection.
 */
export const gracefulClose = fp(
  async (app: App) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (closing) reply.header('connection', 'close');
      return payload;
    });
  },
  { name: 'graceful-close' },
);
