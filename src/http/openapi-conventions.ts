/**
 * What every operation of the OpenAPI document gets without its route having to say so: an
 * operationId, a description for each response code, and a document without duplicate schemas and
 * with request examples where "Try it out" finds them. Pure functions over the document; the
 * openapi plugin applies them to every route, including routes added later.
 */

type Json = Record<string, unknown>;

/** Who calls a route, which decides what its error responses mean. */
export type RouteFamily = 'management' | 'wallet' | 'public';

/**
 * `POST /v1/openid/offers/pre-authorized/:id/credentials/status` →
 * `postOpenidOffersPreAuthorizedByIdCredentialsStatus`: the method, then the path without its
 * version segments, each path parameter as `By<Name>`. Unique as long as no two routes differ only
 * by version; a route can set `schema.operationId` itself.
 */
export function operationIdFor(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((segment) => segment && !/^v\d+$/.test(segment))
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

const COMMON: Record<string, string> = {
  '200': 'Success',
  '201': 'Created',
  '204': 'Done; no content',
  '304': 'Not modified: the ETag sent in If-None-Match is still current',
  '404': 'Not found',
  '406': 'None of the media types in Accept can be served',
  '409': 'Conflicts with the current state; `message` says how',
  '413': 'The body is larger than 500 KB',
  '415': 'The body has a content type the operation does not take; the message names the one to send',
  '429': 'Too many requests from this address; retry after Retry-After seconds',
  '503': 'The database is unavailable or at capacity; retry after Retry-After seconds',
};

const BY_FAMILY: Record<RouteFamily, Record<string, string>> = {
  management: {
    '400': 'Invalid request: `details` names each parameter or field that is wrong, and why',
    '401': 'No API key, or an unknown or revoked one',
    '403': "The API key's role may not call this operation",
  },
  wallet: {
    '400': 'OAuth error (`error`, `error_description`): the request is invalid, or the code, transaction code or proof is refused',
    '401': 'No access token, or an unknown, expired or revoked one (see WWW-Authenticate)',
    '403': 'The access token does not allow this request',
  },
  public: { '400': 'Invalid request' },
};

/** The description of a response code when the route gives none: what the code means for this kind of route. */
export function defaultResponseDescription(status: string, family: RouteFamily): string {
  return BY_FAMILY[family][status] ?? COMMON[status] ?? (status.startsWith('2') ? 'Success' : 'Error');
}

const SCHEMA_REF = '#/components/schemas/';
const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

function mapRefs(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapRefs(item, rename));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) =>
      key === '$ref' && typeof inner === 'string' && inner.startsWith(SCHEMA_REF)
        ? [key, SCHEMA_REF + inner.slice(SCHEMA_REF.length).replace(/^[^#/]+/, rename)]
        : [key, mapRefs(inner, rename)],
    ),
  );
}

function referencedSchemas(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => referencedSchemas(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith(SCHEMA_REF)) found.add(/^[^#/]+/.exec(inner.slice(SCHEMA_REF.length))![0]);
      else referencedSchemas(inner, found);
    }
  }
  return found;
}

const JSON_VALUE_TYPES = JSON.stringify(['string', 'number', 'boolean', 'null', 'array', 'object']);

/**
 * Schemas that zod shares between named ones (recursive ones: a JSON value) arrive as
 * `__shared#/$defs/schemaN`, a reference no OpenAPI tool resolves; each becomes a component of its
 * own, the same definitions once: `JsonValue` for any JSON value, `SharedN` otherwise.
 */
export function promoteSharedSchemas(document: Json): Json {
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  const defs = (schemas.__shared?.$defs ?? {}) as Record<string, Json>;
  const nameOf = new Map<string, string>();
  const nameOfShape = new Map<string, string>();
  const promoted: Record<string, Json> = {};
  for (const [def, schema] of Object.entries(defs)) {
    // Compared with self-references made anonymous: schema0 and schema1 may be the same definition.
    const shape = JSON.stringify(schema).replaceAll(JSON.stringify(`${SCHEMA_REF}__shared#/$defs/${def}`), '"self"');
    let name = nameOfShape.get(shape);
    if (!name) {
      const types = JSON.stringify(((schema.anyOf ?? []) as Json[]).map((option) => option.type));
      name = types === JSON_VALUE_TYPES && !schemas.JsonValue ? 'JsonValue' : `Shared${nameOfShape.size}`;
      nameOfShape.set(shape, name);
      promoted[name] = schema;
    }
    nameOf.set(def, name);
  }
  if (!nameOf.size) return document;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => {
        const shared = key === '$ref' && typeof inner === 'string' ? /^#\/components\/schemas\/__shared#\/\$defs\/(\w+)$/.exec(inner) : null;
        return shared ? [key, SCHEMA_REF + nameOf.get(shared[1]!)] : [key, rewrite(inner)];
      }),
    );
  };
  const kept = { ...Object.fromEntries(Object.entries(schemas).filter(([name]) => name !== '__shared')), ...promoted };
  return rewrite({ ...document, components: { ...(document.components as Json), schemas: kept } }) as Json;
}

/**
 * fastify-type-provider-zod emits every named schema twice, as `X` (what responses give) and
 * `XInput` (what requests take). Where both are the same, requests refer to `X` and `XInput`
 * goes; then every schema nothing refers to goes too.
 */
export function mergeDuplicateSchemas(document: Json): Json {
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Record<string, unknown>;
  const merged = new Set<string>();
  // Repeat: an Input schema may equal its twin only once the schemas it refers to are merged.
  for (let changed = true; changed; ) {
    changed = false;
    const rename = (name: string) => (merged.has(name) ? name.slice(0, -'Input'.length) : name);
    for (const name of Object.keys(schemas)) {
      const twin = name.endsWith('Input') ? name.slice(0, -'Input'.length) : undefined;
      if (!twin || merged.has(name) || !(twin in schemas)) continue;
      if (JSON.stringify(mapRefs(schemas[name], rename)) === JSON.stringify(mapRefs(schemas[twin], rename))) {
        merged.add(name);
        changed = true;
      }
    }
  }
  const rename = (name: string) => (merged.has(name) ? name.slice(0, -'Input'.length) : name);
  const renamed = mapRefs({ ...document, components: { ...(document.components as Json), schemas: {} } }, rename) as Json;
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => !merged.has(name)).map(([name, schema]) => [name, mapRefs(schema, rename)]));
  // Keep what the paths reach, directly or through other schemas.
  const reachable = referencedSchemas(renamed.paths);
  for (let grew = true; grew; ) {
    grew = false;
    for (const name of [...reachable]) {
      for (const inner of referencedSchemas(kept[name])) {
        if (!reachable.has(inner)) {
          reachable.add(inner);
          grew = true;
        }
      }
    }
  }
  // An `XInput` whose twin nothing refers to is just `X`.
  const lone = (name: string) => name.endsWith('Input') && reachable.has(name) && !reachable.has(name.slice(0, -'Input'.length));
  const plain = (name: string) => (lone(name) ? name.slice(0, -'Input'.length) : name);
  const result = mapRefs({ ...renamed, components: { ...(renamed.components as Json), schemas: {} } }, plain) as Json;
  (result.components as Json).schemas = Object.fromEntries(
    Object.entries(kept)
      .filter(([name]) => reachable.has(name))
      .map(([name, schema]) => [plain(name), mapRefs(schema, plain)]),
  );
  return result;
}

/**
 * Swagger UI fills "Try it out" from the media type's `example`. A request body that refers to a
 * named schema carries its example in that schema (`.meta({ examples })`); copy it up.
 */
export function hoistRequestExamples(document: Json): Json {
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  for (const pathItem of Object.values((document.paths ?? {}) as Record<string, Json>)) {
    for (const method of OPERATION_METHODS) {
      const content = ((pathItem[method] as Json | undefined)?.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      for (const media of Object.values(content ?? {})) {
        if (media.example !== undefined || media.examples !== undefined) continue;
        const ref = (media.schema as Json | undefined)?.$ref;
        const named = typeof ref === 'string' && ref.startsWith(SCHEMA_REF) ? schemas[ref.slice(SCHEMA_REF.length)] : undefined;
        const example = (named?.examples as unknown[] | undefined)?.[0] ?? named?.example;
        if (example !== undefined) media.example = example;
      }
    }
  }
  return document;
}

/** Every operation of a document, for checks over all of them. */
export function operationsOf(document: Json): { method: string; path: string; operation: Json }[] {
  return Object.entries((document.paths ?? {}) as Record<string, Json>).flatMap(([path, pathItem]) =>
    OPERATION_METHODS.filter((method) => pathItem[method]).map((method) => ({ method, path, operation: pathItem[method] as Json })),
  );
}
