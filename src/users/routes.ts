import { z } from 'zod';
import { ALL_ISSUERS } from '../auth/roles.js';
import { claimsSchema } from '../claims/claim-data.js';
import type { App } from '../context.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { userSchema, type User } from './schemas.js';
import { USER_EVENTS, createUser, deleteUser, getUser, listUsers, updateUserClaims } from './use-cases.js';

const tags = ['Users'];
const params = z.object({ id: z.uuid() });
const userBody = z.strictObject({ claims: claimsSchema.default({}) }).meta({ examples: [{ claims: { givenName: 'Ada', familyName: 'Lovelace' } }] });
const withoutSeq = ({ id, claims }: User) => ({ id, claims });

export async function userRoutes(app: App) {
  app.post(
    '/v1/users',
    { config: { roles: ALL_ISSUERS, event: USER_EVENTS.create }, schema: { tags, summary: 'Create a user', body: userBody, response: { 201: userSchema } } },
    async (request, reply) => reply.status(201).send(await createUser(app.ctx, request.audit, request.body.claims)),
  );

  app.get(
    '/v1/users',
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'List users', querystring: pageQuerySchema, response: { 200: pageSchema(userSchema) } } },
    async (request) => {
      const { limit, cursor } = request.query;
      const { rows, more } = await listUsers(app.ctx, { limit, beforeSeq: decodeCursor(cursor) });
      return toPage(rows, limit, withoutSeq, more);
    },
  );

  app.post(
    '/v1/users/search',
    {
      config: { roles: ALL_ISSUERS },
      schema: {
        tags,
        summary: 'Find users whose claims include the given claims exactly',
        body: z
          .strictObject({ claims: claimsSchema, ...pageQuerySchema.shape, limit: z.number().int().min(1).max(1000).default(100) })
          .meta({ examples: [{ claims: { familyName: 'Lovelace' }, limit: 10 }] }),
        response: { 200: pageSchema(userSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, claims } = request.body;
      const { rows, more } = await listUsers(app.ctx, { limit, claims, beforeSeq: decodeCursor(cursor, 'body') });
      return toPage(rows, limit, withoutSeq, more);
    },
  );

  app.get(
    '/v1/users/:id',
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'Get a user', params, response: { 200: userSchema } } },
    async (request) => getUser(app.ctx, request.params.id),
  );

  app.put(
    '/v1/users/:id',
    {
      config: { roles: ALL_ISSUERS, event: USER_EVENTS.update },
      schema: { tags, summary: "Replace a user's claims", params, body: userBody, response: { 200: userSchema } },
    },
    async (request) => updateUserClaims(app.ctx, request.audit, request.params.id, request.body.claims),
  );

  app.delete(
    '/v1/users/:id',
    {
      config: { roles: ALL_ISSUERS, event: USER_EVENTS.delete },
      schema: { tags, summary: 'Delete a user (credentials already issued stay valid)', params, response: { 204: z.null().describe('Deleted') } },
    },
    async (request, reply) => {
      await deleteUser(app.ctx, request.audit, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
