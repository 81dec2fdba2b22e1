import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isDatabaseUnavailable, isPoolSaturated } from '../db/database.js';
import { ApiError, RETRY_AFTER_SECONDS, SATURATED_MESSAGE, clientErrorMessage, instancePathToParam } from './errors.js';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** The OAuth 2.0 / OpenID4VCI error body (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2). */
export const oauthErrorSchema = z
  .object({ error: z.string(), error_description: z.string().optional() })
  .meta({ id: 'OAuthError' });

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly statusCode = 400,
    readonly headers: Record<string, string> = {},
    /** More members of the error body, e.g. a fresh c_nonce with draft 13's invalid_proof. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description);
  }
}

/** RFC 6750 §3: a bad access token is a 401 with the reason in WWW-Authenticate. */
export function invalidToken(description: string): OAuthError {
  return new OAuthError('invalid_token', description, 401, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The OAuth error code a schema-validation failure maps to on this route. */
    oauthValidationError?: string;
  }
}

export function sendOAuthError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (error instanceof OAuthError) {
    return reply.status(error.statusCode).headers(error.headers).send({ error: error.error, error_description: error.description, ...error.extra });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) {
    const issue = hasZodFastifySchemaValidationErrors(fastifyError) ? fastifyError.validation[0] : undefined;
    const description = issue ? `${instancePathToParam(issue.instancePath) || 'request'}: ${issue.message}` : fastifyError.message;
    return reply.status(400).send({ error: request.routeOptions.config.oauthValidationError ?? 'invalid_request', error_description: description });
  }
  if (isDatabaseUnavailable(error)) {
    const saturated = isPoolSaturated(error);
    request.log.warn({ err: error }, saturated ? 'database pool saturated' : 'database unavailable');
    return reply
      .status(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .send({ error: 'temporarily_unavailable', error_description: saturated ? SATURATED_MESSAGE : 'The service is temporarily unavailable; retry shortly' });
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const detail = error instanceof ApiError ? error.details?.[0] : undefined;
    const description = detail
      ? `${detail.param || detail.location}: ${detail.msg}`
      : error instanceof SyntaxError
        ? 'Request body is not valid JSON'
        : clientErrorMessage(fastifyError);
    return reply.status(status).send({ error: request.routeOptions.config.oauthValidationError ?? 'invalid_request', error_description: description });
  }
  request.log.error({ err: error }, 'request failed');
  return reply.status(500).send({ error: 'server_error', error_description: 'An unexpected error occurred' });
}
