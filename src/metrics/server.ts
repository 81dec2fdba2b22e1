import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import type { Metrics } from './metrics.js';

export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string;
  close(): Promise<void>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function answer(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(body);
}

/**
 * `GET /metrics` on a listener of its own (METRICS_HOST:METRICS_PORT, loopback by default), apart
 * from the public port: a proxy or load balancer in front of the issuer never routes to it, and
 * a scrape is neither rate-limited nor counted among the service's requests. With METRICS_TOKEN set,
 * a scrape must carry it as a bearer token (RFC 6750 §2.1).
 */
export async function startMetricsServer(config: Pick<Config, 'metrics'>, metrics: Metrics): Promise<MetricsServer> {
  const { host, port, token } = config.metrics;
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.split('?')[0] !== '/metrics') return answer(response, 404, JSON.stringify({ code: 'NotFound', message: 'Only GET /metrics is served here' }));
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, JSON.stringify({ code: 'MethodNotAllowed', message: 'Use GET' }), { allow: 'GET, HEAD' });
    if (expected && !constantTimeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return answer(response, 401, JSON.stringify({ code: 'Unauthorized', message: 'Send METRICS_TOKEN as a bearer token' }), { 'www-authenticate': 'Bearer realm="metrics"' });
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => answer(response, 500, JSON.stringify({ code: 'InternalServerError', message: 'The metrics could not be collected' })),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`METRICS_PORT ${port} on ${host} is in use (another instance on this host?): set METRICS_PORT to a free port, or 0 for any`)
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
