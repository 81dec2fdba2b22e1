import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDatabaseUnavailable, isPoolSaturated } from '../db/database.js';

export const RETRY_AFTER_SECONDS = 5;
export const SATURATED_MESSAGE = 'The service is at capacity (every database connection is busy); retry shortly';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
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

export type ErrorCode =
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

export const errorDetailSchema = z.object({
  location: z.enum(['body', 'query', 'params', 'headers']),
  param: z.string(),
  msg: z.string(),
});
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

/** The management API's error body: `{ code, message, details? }` (MATTR VII's shape). */
export const managementErrorSchema = z
  .object({ code: z.string(), message: z.string(), details: z.array(errorDetailSchema).optional() })
  .meta({ id: 'Error' });

/** An expected failure of a management request, turned into its documented response by the error handler. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) => new ApiError(400, message, details);
export const notFound = (what: string) => new ApiError(404, `${what} not found`);
export const conflict = (message: string) => new ApiError(409, message);

/** `["credentials", 0, "id"]` → `credentials[0].id` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

const LOCATION: Record<string, ErrorDetail['location']> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

/** `/credentials/0` (a validation error's instancePath) → `credentials[0]` */
export function instancePathToParam(instancePath: string): string {
  return formatPath(
    instancePath
      .split('/')
      .slice(1)
      .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment)),
  );
}

export function validationDetails(error: FastifyError): ErrorDetail[] {
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

export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * Classifies any thrown value: our own errors, schema validation, Fastify's client errors (413, 415,
 * malformed JSON), and an unreachable database (503). Everything else is a 500 whose details stay in the log.
 */
export function classifyError(error: unknown): { status: number; message: string; details?: ErrorDetail[]; unexpected: boolean } {
  if (error instanceof ApiError) return { status: error.statusCode, message: error.message, details: error.details, unexpected: false };
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) {
    return { status: 400, message: 'Validation Error', details: validationDetails(fastifyError), unexpected: false };
  }
  if (isPoolSaturated(error)) return { status: 503, message: SATURATED_MESSAGE, unexpected: false };
  if (isDatabaseUnavailable(error)) return { status: 503, message: 'The database is unavailable; retry shortly', unexpected: false };
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: clientErrorMessage(fastifyError), unexpected: false };
  }
  return { status: 500, message: 'An unexpected error occurred', unexpected: true };
}

/** Fastify's own client errors (413, 415, malformed JSON) in plain words. */
export function clientErrorMessage(error: FastifyError): string {
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

export function sendManagementError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, message, details, unexpected } = classifyError(error);
  if (unexpected) request.log.error({ err: error }, 'request failed');
  else if (status >= 500) request.log.warn({ err: error }, message);
  if (status === 503 || status === 429) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest');
  return reply.status(status).send(details ? { code, message, details } : { code, message });
}
