import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { App } from '../context.js';
import { managementErrorSchema } from '../errors/render.js';

/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas, at `/openapi.json`, and its
 * interactive reference at `/docs`. Every management route is documented with its roles and the
 * error responses all of them can give.
 */
export const openApi = fp(
  async (app: App) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'vci-issuer',
          version: '0.1.0',
          description: 'OpenID4VCI credential issuer with a MATTR VII compatible management API.',
        },
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'Management API key' },
            accessToken: { type: 'http', scheme: 'bearer', description: 'Access token from the token endpoint' },
          },
        },
      },
      transform: (input) => {
        if (input.route.config?.roles && input.schema) {
          const errors = { 400: managementErrorSchema, 401: managementErrorSchema, 403: managementErrorSchema };
          input = { ...input, schema: { ...input.schema, response: { ...errors, ...(input.schema.response as object) } } };
        }
        const transformed = jsonSchemaTransform(input);
        if (input.route.config?.roles) {
          const schema = transformed.schema as Record<string, unknown>;
          schema.security = [{ apiKey: [] }];
          schema.description = [schema.description, `Roles: ${input.route.config.roles.join(', ')}.`].filter(Boolean).join('\n\n');
        }
        return transformed;
      },
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
