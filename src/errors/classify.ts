import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable, isPoolSaturated } from '../db/database.js';
import { DomainError, formatPath, skipsFailureEvent, type DomainErrorKind } from './domain.js';
import { HttpError, type ErrorDetail } from './http.js';
import { OAuthError } from './oauth.js';

/** What went wrong, independent of how it is rendered (management or OAuth shape). */
export type Failure =
  /** A wallet-facing error that already has its OAuth code. */
  | { kind: 'oauth'; status: number; error: OAuthError }
  /** The request cannot be served as sent (4xx). */
  | { kind: 'client'; status: number; message: string; details?: ErrorDetail[]; headers?: Record<string, string> }
  /** The database cannot be used right now: down, or every connection busy (`saturated`). */
  | { kind: 'unavailable'; status: number; message: string; saturated: boolean }
  /** A bug: the details stay in the log. */
  | { kind: 'unexpected'; status: 500; message: string };

const STATUS_BY_KIND: Record<DomainErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409 };

export const UNAVAILABLE_MESSAGE = 'The database is unavailable; retry shortly';
export const SATURATED_MESSAGE = 'The service is at capacity (every database connection is busy); retry shortly';

/** `/credentials/0` (a validation error's instancePath) → `credentials[0]` */
export function instancePathToParam(instancePath: string): string {
  return formatPath(
    instancePath
      .split('/')
      .slice(1)
      .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment)),
  );
}

const LOCATION: Record<string, ErrorDetail['location']> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

/** A schema validation failure, one detail per field. */
function validationDetails(error: FastifyError): ErrorDetail[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [{ location: 'body', param: '', msg: error.message }];
  const location = LOCATION[error.validationContext ?? 'body'] ?? 'body';
  return error.validation.flatMap((issue) => {
    const param = instancePathToParam(issue.instancePath);
    const params = issue.params as { keys?: string[]; issues?: { message: string }[] };
    // Name each unknown field itself, not the object that holds it.
    if (issue.keyword === 'unrecognized_keys' && params.keys) {
      return params.keys.map((key) => ({ location, param: formatPath([...(param ? [param] : []), key]), msg: `Unknown field "${key}"` }));
    }
    // A record key that failed its own schema: say why, not just "Invalid key in record".
    const reason = issue.keyword === 'invalid_key' ? params.issues?.[0]?.message : undefined;
    return [{ location, param, msg: reason ? `Invalid key: ${reason}` : (issue.message ?? 'Invalid value') }];
  });
}

/** Fastify's own client errors (413, 415, malformed JSON) in plain words. */
function clientErrorMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than the 500 KB limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Request body must not be empty when Content-Type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'Request body is not valid JSON (or has a __proto__ or constructor.prototype key)';
    case undefined:
      return error instanceof SyntaxError ? 'Request body is not valid JSON' : error.message;
    default:
      return error.message;
  }
}

/** The one classifier of thrown values, for both error shapes. */
export function classifyError(error: unknown): Failure {
  if (error instanceof OAuthError) return { kind: 'oauth', status: error.statusCode, error };
  if (error instanceof DomainError) {
    const details = error.fields.map(({ field, message }): ErrorDetail => ({ location: 'body', param: field, msg: message }));
    return { kind: 'client', status: STATUS_BY_KIND[error.kind], message: error.message, ...(details.length && { details }) };
  }
  if (error instanceof HttpError) {
    if (error.statusCode >= 500) return { kind: 'unavailable', status: error.statusCode, message: error.message, saturated: false };
    return { kind: 'client', status: error.statusCode, message: error.message, ...(error.details && { details: error.details }), headers: error.headers };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) return { kind: 'client', status: 400, message: 'Validation Error', details: validationDetails(fastifyError) };
  if (isPoolSaturated(error)) return { kind: 'unavailable', status: 503, message: SATURATED_MESSAGE, saturated: true };
  if (isDatabaseUnavailable(error)) return { kind: 'unavailable', status: 503, message: UNAVAILABLE_MESSAGE, saturated: false };
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { kind: 'client', status, message: clientErrorMessage(fastifyError) };
  return { kind: 'unexpected', status: 500, message: 'An unexpected error occurred' };
}

/**
 * Whether a failed request of an audited operation gets its START and FAIL events: not when it
 * carried no valid credentials (401), was shed by the rate limit (429), found no database to write
 * to, or was marked by skipFailureEvent.
 */
export function recordsFailureEvent(error: unknown, failure: Failure): boolean {
  return failure.status !== 401 && failure.status !== 429 && failure.kind !== 'unavailable' && !skipsFailureEvent(error);
}
