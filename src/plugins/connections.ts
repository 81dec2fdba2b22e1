import type { IncomingMessage } from 'node:http';
import fp from 'fastify-plugin';
import type { App } from '../context.js';

/**
 * What the service does with its connections beyond serving them: at most MAX_CONNECTIONS at once
 * (each one past that is closed on arrival, so stalled clients cannot use up the process's file
 * descriptors, which its database connections need too), and a stop that neither waits for clients
 * that went quiet nor cuts off requests in flight. The time a request may take to arrive is
 * REQUEST_TIMEOUT_SECONDS (http/server-options.ts).
 */
export const connections = fp(
  async (app: App) => {
    if (app.ctx.config.http.maxConnections > 0) app.server.maxConnections = app.ctx.config.http.maxConnections;

    // Requests that may still be arriving, for the stop. Forgotten once complete, lazily: no
    // listener or hook per request, only this one on the server.
    const recent = new Set<IncomingMessage>();
    app.server.on('request', (raw: IncomingMessage) => {
      if (recent.size >= 256) for (const old of recent) if (old.complete || old.destroyed) recent.delete(old);
      recent.add(raw);
    });

    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
      // A client still sending its body when the stop begins has nothing in flight yet: its
      // connection is closed now, rather than holding the stop open until it times out.
      for (const raw of recent) if (!raw.complete) raw.socket?.destroy();
    });

    // A keep-alive connection that becomes idle after its in-flight response would hold `close()`
    // open until the client drops it (up to keepAliveTimeout, 72 s: past the shutdown deadline).
    // Every response sent while closing therefore closes its connection.
    app.addHook('onSend', async (_request, reply, payload) => {
      if (closing) reply.header('connection', 'close');
      return payload;
    });
  },
  { name: 'connections' },
);
