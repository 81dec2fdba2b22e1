import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { OAuthErrorCode } from '../protocol.js';
import type { Failure } from './classify.js';
import { oauthDescription } from './oauth.js';
import { errorDetailSchema } from './http.js';

export const RETRY_AFTER_SECONDS = 5;

/** The management API's error body: `{ code, message, details? }` (MATTR VII's shape). */
export const managementErrorSchema = z
  .object({ code: z.string(), message: z.string(), details: z.array(errorDetailSchema).optional() })
  .meta({ id: 'Error' });

/** The OAuth 2.0 / OpenID4VCI error body (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2). */
export const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() }).meta({ id: 'OAuthError' });

export type ManagementErrorCode =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'PayloadTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'InternalServerError';

const CODE_BY_STATUS: Record<number, ManagementErrorCode> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Wallet-facing routes: the OAuth error code a request the route cannot read maps to. */
    oauthValidationError?: OAuthErrorCode;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the response is an error: what its request log line and the metrics say about it. */
    failure: AnsweredFailure | null;
  }
}

/** A failed request as logged: the code its answer carried, and why, in words a person can act on. */
export interface AnsweredFailure {
  /** The management code (`BadRequest`) or the OAuth error code (`invalid_grant`). */
  code: string;
  reason: string;
  /** Answered in the OAuth shape (a wallet-facing endpoint). */
  oauth: boolean;
}

// A field named by a schema is ours to name; anything else a request sent is never repeated.
const NAMED_FIELD = /^[\w.[\]-]{1,64}$/;

/**
 * Why a request failed: the message its answer carried (never a secret, a claim value or request
 * text: see OAuthError and the use cases' messages), with the fields a validation error names.
 */
function failureReason(failure: Failure): string {
  if (failure.kind === 'oauth') return failure.error.description;
  if (failure.kind !== 'client' || !failure.details?.length) return failure.message;
  const fields = failure.details.map(({ location, param, msg }) =>
    !param ? `${location}: ${msg}` : NAMED_FIELD.test(param) ? `${location}.${param}: ${msg}` : `${location}: a field whose name is not shown is invalid`,
  );
  return `${failure.message}: ${fields.join('; ')}`;
}

function log(failure: Failure, error: unknown, request: FastifyRequest) {
  if (failure.kind === 'unexpected') request.log.error({ err: error }, 'request failed');
  else if (failure.kind === 'unavailable') request.log.warn({ err: error }, failure.message);
}

/** `{ code, message, details? }`, with Retry-After when retrying helps. */
export function renderManagementError(failure: Failure, error: unknown, request: FastifyRequest, reply: FastifyReply) {
  log(failure, error, request);
  if (failure.status === 503 || failure.status === 429) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const code = CODE_BY_STATUS[failure.status] ?? (failure.status >= 500 ? 'InternalServerError' : 'BadRequest');
  request.failure = { code, reason: failureReason(failure), oauth: false };
  if (failure.kind === 'client' && failure.headers) reply.headers(failure.headers);
  if (failure.kind === 'oauth') return reply.status(failure.status).send({ code, message: failure.error.description });
  const details = failure.kind === 'client' ? failure.details : undefined;
  return reply.status(failure.status).send(details ? { code, message: failure.message, details } : { code, message: failure.message });
}

/** `{ error, error_description }` (never cached, RFC 6749 §5.1). */
export function renderOAuthError(failure: Failure, error: unknown, request: FastifyRequest, reply: FastifyReply) {
  log(failure, error, request);
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  switch (failure.kind) {
    case 'oauth': {
      const { error: code, description, headers, extra } = failure.error;
      request.failure = { code, reason: description, oauth: true };
      return reply.status(failure.status).headers(headers).send({ error: code, error_description: description, ...extra });
    }
    case 'client': {
      if (failure.headers) reply.headers(failure.headers);
      const detail = failure.details?.[0];
      const field = detail && NAMED_FIELD.test(detail.param) ? detail.param : detail?.location;
      const description = oauthDescription(detail ? `${field || 'request'}: ${detail.msg}` : failure.message);
      const code = request.routeOptions.config.oauthValidationError ?? 'invalid_request';
      request.failure = { code, reason: failureReason(failure), oauth: true };
      return reply.status(failure.status).send({ error: code, error_description: description });
    }
    case 'unavailable':
      request.failure = { code: 'temporarily_unavailable', reason: failure.message, oauth: true };
      return reply
        .status(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .send({ error: 'temporarily_unavailable', error_description: failure.saturated ? failure.message : 'The service is temporarily unavailable; retry shortly' });
    case 'unexpected':
      request.failure = { code: 'server_error', reason: failure.message, oauth: true };
      return reply.status(500).send({ error: 'server_error', error_description: failure.message });
  }
}
