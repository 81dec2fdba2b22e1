import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that can stall chosen connections without closing them: bytes
 * stop flowing both ways, as with a dead network path or a frozen peer, while both sockets stay open.
 * A connection is chosen by a string of its startup message (the application_name, say).
 */
export interface StallingProxy {
  url: string;
  /** Stall every connection, open or future, whose startup message contains `marker`. */
  stall(marker: string): void;
  close(): Promise<void>;
}

export async function startStallingProxy(targetUrl: string): Promise<StallingProxy> {
  const target = new URL(targetUrl);
  const markers: string[] = [];
  const connections: { startup: string; stalled: boolean; client: Socket; server: Socket }[] = [];
  const apply = (connection: (typeof connections)[number]) => {
    if (!connection.stalled && markers.some((marker) => connection.startup.includes(marker))) {
      connection.stalled = true;
      connection.client.pause();
      connection.server.pause();
    }
  };
  const proxy: Server = createServer((client) => {
    const server = connect(Number(target.port || 5432), target.hostname);
    const connection = { startup: '', stalled: false, client, server };
    connections.push(connection);
    client.on('data', (chunk) => {
      if (connection.startup.length < 4096) connection.startup += chunk.toString('latin1');
      apply(connection);
      if (!connection.stalled) server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (!connection.stalled) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((proxy.address() as { port: number }).port);
  return {
    url: url.toString(),
    stall(marker) {
      markers.push(marker);
      connections.forEach(apply);
    },
    async close() {
      for (const { client, server } of connections) {
        client.destroy();
        server.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
