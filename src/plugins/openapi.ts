import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../context.js';
import { managementErrorSchema, oauthErrorSchema } from '../errors/render.js';
import { defaultResponseDescription, hoistRequestExamples, mergeDuplicateSchemas, operationIdFor, promoteSharedSchemas, type RouteFamily } from '../http/openapi-conventions.js';

const AUTHENTICATION = `OpenID4VCI credential issuer with a MATTR VII compatible management API.

## Authentication

- **Management API** (operations marked with a lock, scheme \`apiKey\`): send \`Authorization: Bearer <API key>\`.
  The first start prints an admin key (or set \`ADMIN_API_KEY\`); \`POST /v1/api-keys\` makes more. Each key
  has one role (\`admin\`, \`issuer\`, \`managed-issuer\`, \`auditor\`) and each operation lists the roles it
  allows. Here: **Authorize**, paste the key under \`apiKey\`, then **Try it out**.
- **Wallet endpoints**: the token endpoint takes the pre-authorized code of an offer (and its transaction
  code) as a form; the credential and notification endpoints (scheme \`accessToken\`) take the access token
  it answers, as \`Bearer\`, or as \`DPoP\` with a DPoP proof when the token is DPoP-bound (RFC 9449).
  \`npm run wallet -- '<offer URI>'\` does all of it for you.
- **Public**: metadata, offers by reference, status lists, IACA certificates and CRLs, health: no credentials.

Errors of the management API are \`{ code, message, details }\`; errors of the wallet endpoints are
\`{ error, error_description }\` (RFC 6749 §5.2).`;

const familyOf = (route: RouteOptions): RouteFamily =>
  route.config?.roles ? 'management' : route.config?.crossOrigin === 'wallet' || route.config?.accessToken ? 'wallet' : 'public';

/** `/docs` and `/openapi.json`. */
async function registerDocs(app: App) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'vci-issuer', version: '0.1.0', description: AUTHENTICATION },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'Management API key: `Authorization: Bearer vci_…`' },
          accessToken: { type: 'http', scheme: 'bearer', description: 'Access token from the token endpoint (Bearer, or DPoP with a DPoP proof)' },
        },
      },
    },
    transform: (input) => {
      const route = input.route as RouteOptions;
      const family = familyOf(route);
      if (input.schema) {
        const errorSchema = family === 'management' ? managementErrorSchema : oauthErrorSchema;
        const errors = {
          ...(family === 'management' && { 400: managementErrorSchema, 401: managementErrorSchema, 403: managementErrorSchema }),
          ...(input.schema.body !== undefined && { 415: errorSchema }),
        };
        input = { ...input, schema: { ...input.schema, response: { ...errors, ...(input.schema.response as object) } } };
      }
      const transformed = jsonSchemaTransform(input);
      const schema = transformed.schema as Record<string, unknown>;
      if (schema.hide) return transformed;
      const method = [route.method].flat()[0]!;
      schema.operationId ??= operationIdFor(method, input.url);
      if (route.config?.roles) {
        schema.security = [{ apiKey: [] }];
        schema.description = [schema.description, `Roles: ${route.config.roles.join(', ')}.`].filter(Boolean).join('\n\n');
      }
      if (route.config?.accessToken) schema.security ??= [{ accessToken: [] }];
      // No response documented at all would read as one "Default Response".
      const responses = (schema.response ??= {}) as Record<string, Record<string, unknown>>;
      if (!Object.keys(responses).some((status) => status.startsWith('2') || status.startsWith('3'))) responses['200'] = {};
      // A body that is not JSON (an image, a CRL, a status list token) is a string, of bytes unless every type is text.
      const produces = (schema.produces as string[] | undefined) ?? [];
      const text = produces.every((type) => /json|jwt|pem|svg|text/.test(type));
      for (const [status, response] of Object.entries(responses)) {
        if (produces.length && !produces.some((type) => type.includes('json')) && status.startsWith('2') && !('type' in response || '$ref' in response || 'anyOf' in response)) {
          Object.assign(response, { type: 'string' }, !text && { format: 'binary' });
          response['x-response-description'] ??= `${defaultResponseDescription(status, family)}: ${produces.join(' or ')}`;
        }
        // Beside a $ref, @fastify/swagger reads `description` as the response's and drops it from the schema.
        if (!response.description) response[response.$ref ? 'description' : 'x-response-description'] ??= defaultResponseDescription(status, family);
      }
      return transformed;
    },
    transformObject: (input) => hoistRequestExamples(mergeDuplicateSchemas(promoteSharedSchemas(jsonSchemaTransformObject(input) as Record<string, unknown>))) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas, at `/openapi.json`, and its
 * interactive reference at `/docs` (unless DOCS=false). Every operation gets an operationId and a
 * description of each response code unless its route gives them; every management route is
 * documented with its roles and the error responses all of them can give; every route that takes a
 * body, with its 415.
 */
export const openApi = fp(
  async (app: App) => {
    const { docs } = app.ctx.config;
    // Registered first, so that swagger sees every route registered after it.
    if (docs) await registerDocs(app);
    app.get(
      '/',
      {
        config: { crossOrigin: 'public' },
        schema: {
          tags: ['Health'],
          summary: 'Where to start: the API reference (a browser is redirected to it) and the metadata',
          response: {
            200: z
              .object({
                name: z.string(),
                docs: z.string().optional().describe('The interactive API reference (absent with DOCS=false)'),
                openapi: z.string().optional().describe('The OpenAPI document (absent with DOCS=false)'),
                credentialIssuer: z.string().describe('The Credential Issuer Identifier'),
                metadata: z.string().describe('The Credential Issuer metadata'),
              })
              .describe('Links to the documentation and the metadata'),
            302: z.null().describe('A browser (Accept: text/html) is sent to /docs'),
          },
        },
      },
      async (request, reply) => {
        if (docs && /text\/html/.test(request.headers.accept ?? '')) return reply.redirect('/docs', 302);
        const { publicUrl, issuerName } = app.ctx.config;
        const url = new URL(publicUrl);
        return {
          name: issuerName,
          ...(docs && { docs: '/docs', openapi: '/openapi.json' }),
          credentialIssuer: publicUrl,
          // OID4VCI 1.0 §12.2.2: /.well-known/ goes between the host and the identifier's path.
          metadata: `${url.origin}/.well-known/openid-credential-issuer${url.pathname.replace(/\/$/, '')}`,
        };
      },
    );
  },
  { name: 'openapi' },
);
