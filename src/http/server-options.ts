import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { securityHeaderValues } from '../plugins/security-headers.js';
import { STATUS_LIST_PATHS, WALLET_PATHS } from '../protocol.js';

export const BODY_LIMIT_BYTES = 500 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A path (below PUBLIC_URL's path) answered in the OAuth error shape: a wallet-facing endpoint, or below one. */
/** Paths served by the wallet scope (OAuth-shaped errors): the wallet endpoints and the status lists. */
const WALLET_SCOPE_PATHS = [...Object.values(WALLET_PATHS), ...Object.values(STATUS_LIST_PATHS)];
const isWalletPath = (path: string) => WALLET_SCOPE_PATHS.some((walletPath) => path === walletPath || path.startsWith(`${walletPath}/`));

/**
 * How the HTTP server itself behaves: limits, request ids, proxies, and the answers Fastify writes
 * before any route or hook runs (a URL it cannot route, bytes that are not HTTP), in the documented
 * error shapes and with the security headers.
 */
export function serverOptions(config: Config, logger: Logger | false | undefined): FastifyServerOptions {
  const walletPrefix = new URL(config.publicUrl).pathname.replace(/\/$/, '');
  const securityHeaders = securityHeaderValues(config);
  const requestTimeout = config.http.requestTimeoutSeconds * 1000;
  return {
    loggerInstance: (logger || undefined) as FastifyBaseLogger | undefined,
    bodyLimit: BODY_LIMIT_BYTES,
    // A request must arrive whole (headers and body) within REQUEST_TIMEOUT_SECONDS, its headers within
    // 10 s of them; past that Node answers 408 and closes the connection. Node checks once per
    // interval, so the interval is kept well under the timeout.
    requestTimeout,
    // Passed to http.createServer; Fastify's types do not name this option.
    ...({ http: { headersTimeout: Math.min(requestTimeout, 10_000), connectionsCheckingInterval: Math.min(1000, requestTimeout / 2) } } as object),
    // One log line per request, written by plugins/request-logging.ts.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false } },
    // Only named proxies: Fastify refuses to trust hop counts (the immediate peer could be anyone).
    trustProxy: config.trustProxy,
    // While closing, a request that still arrives on an open keep-alive connection is served (and its
    // connection closed, see plugins/graceful-close.ts) rather than answered with Fastify's own 503 body.
    return503OnClosing: false,
    // A URL Fastify cannot route (bad percent-encoding, an over-long path parameter): 4xx in the documented shapes.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long' : 'The URL is not valid (bad percent-encoding)';
      const path = (request.url.startsWith(walletPrefix) ? request.url.slice(walletPrefix.length) : request.url).split('?')[0]!;
      reply.status(status).headers(securityHeaders).header('cache-control', 'no-store');
      request.failure = { code: isWalletPath(path) ? 'invalid_request' : 'BadRequest', reason: message, oauth: isWalletPath(path) };
      if (isWalletPath(path)) reply.send({ error: 'invalid_request', error_description: message });
      else reply.send({ code: 'BadRequest', message });
    },
    // Bytes that are not HTTP at all: answered in the management error shape, then the connection is closed.
    clientErrorHandler: (error, socket) => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) return;
      const code = (error as NodeJS.ErrnoException).code;
      const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({ code: 'BadRequest', message: 'Malformed HTTP request' });
      const headers = { ...securityHeaders, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`);
    },
  };
}
