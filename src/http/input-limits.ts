import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatPath } from '../errors/domain.js';
import { HttpError } from '../errors/http.js';

/** Deepest JSON nesting a request body may have; deeper bodies are refused before they are parsed. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when a JSON text nests objects and arrays deeper than `max`, found with one scan of the text
 * (no parsing, no recursion), so a hostile body cannot make the parser or the validators recurse
 * without bound. Brackets inside strings do not count.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * Replaces Fastify's JSON parser with one that refuses bodies nested deeper than MAX_JSON_DEPTH (400)
 * and otherwise delegates to Fastify's own, which keeps secure-json-parse's refusal of `__proto__`
 * and `constructor.prototype` keys. A route that takes no body (the nonce endpoint) accepts an empty
 * one sent as application/json. Register before any plugin so every scope inherits it.
 */
export function useDepthLimitedJsonParser(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && !request.routeOptions.schema?.body) {
      done(null, undefined);
      return;
    }
    if (jsonDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(new HttpError(400, `Request body is nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}

/**
 * A body of a content type no parser takes (or of none at all): 415 naming the type to send, the
 * route's `consumes` or JSON. The type sent is not repeated (OAuth error descriptions never repeat
 * the request).
 */
export function refuseOtherContentTypes(app: FastifyInstance) {
  app.addContentTypeParser('*', (request, _payload, done) => {
    const expected = request.routeOptions.schema?.consumes?.[0] ?? 'application/json';
    done(new HttpError(415, `Unsupported content type: send the body as ${expected} (Content-Type: ${expected})`), undefined);
  });
}

// U+0000 and unpaired UTF-16 surrogates: PostgreSQL stores neither in text nor in jsonb, so a value
// holding one would fail deep in a query. They have no place in any field of this API.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The path of the first string (value or key) in `value` that holds an unstorable character. Runs on
 * every request, so the path is one array grown and shrunk on the way down, copied only when found.
 */
export function findUnstorableText(value: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? [...path] : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const found = findUnstorableText(value[i], path);
      path.pop();
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    const found = UNSTORABLE.test(key) ? [...path] : findUnstorableText((value as Record<string, unknown>)[key], path);
    path.pop();
    if (found) return found;
  }
  return undefined;
}

const LOCATIONS = [
  ['params', 'params'],
  ['query', 'query'],
  ['body', 'body'],
] as const;

/** A preValidation hook: 400 for a path parameter, query parameter or body value holding U+0000 or a lone surrogate. */
export async function refuseUnstorableText(request: FastifyRequest) {
  for (const [property, location] of LOCATIONS) {
    const found = findUnstorableText(request[property]);
    if (found) {
      const param = formatPath(found);
      throw new HttpError(400, 'Validation Error', [{ location, param, msg: 'must not contain U+0000 or unpaired surrogate characters' }]);
    }
  }
}
