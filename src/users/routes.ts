import { z } from 'zod';
import type { App } from '../app.js';
import { ALL_ISSUERS } from '../auth/roles.js';
import { evented } from '../events/record.js';
import { badRequest, notFound } from '../http/errors.js';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../http/pagination.js';
import { newRowId } from '../db/ids.js';
import { claimsSchema, userSchema, type User } from './schemas.js';
import { deleteUser, getUser, insertUser, listUsers, replaceUserClaims } from './store.js';

const tags = ['Users'];
const category = 'User';
const params = z.object({ id: z.uuid() });
const userBody = z.strictObject({ claims: claimsSchema.default({}) });
const withoutSeq = ({ id, claims }: User) => ({ id, claims });

/** The search takes its cursor in the body, so a bad one is reported there. */
function decodeBodyCursor(cursor: string | undefined) {
  try {
    return decodeCursor(cursor);
  } catch {
    throw badRequest('Validation Error', [{ location: 'body', param: 'cursor', msg: 'Invalid cursor' }]);
  }
}

export async function userRoutes(app: App) {
  app.post(
    '/v1/users',
    {
      config: { roles: ALL_ISSUERS, event: { type: 'USER_CREATE', category } },
      schema: { tags, summary: 'Create a user', body: userBody, response: { 201: userSchema } },
    },
    async (request, reply) => {
      const user = await evented(app.ctx.db, request, async (trx) => {
        const created = await insertUser(trx, newRowId(), request.body.claims);
        return { result: created, data: { userId: created.id } };
      });
      return reply.status(201).send(user);
    },
  );

  app.get(
    '/v1/users',
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'List users', querystring: pageQuerySchema, response: { 200: pageSchema(userSchema) } } },
    async (request) => {
      const { limit, cursor } = request.query;
      return toPage(await listUsers(app.ctx.db, { limit, beforeSeq: decodeCursor(cursor) }), limit, withoutSeq);
    },
  );

  app.post(
    '/v1/users/search',
    {
      config: { roles: ALL_ISSUERS },
      schema: {
        tags,
        summary: 'Find users whose claims include the given claims exactly',
        body: z.strictObject({ claims: claimsSchema, ...pageQuerySchema.shape, limit: z.number().int().min(1).max(1000).default(100) }),
        response: { 200: pageSchema(userSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, claims } = request.body;
      return toPage(await listUsers(app.ctx.db, { limit, claims, beforeSeq: decodeBodyCursor(cursor) }), limit, withoutSeq);
    },
  );

  app.get(
    '/v1/users/:id',
    { config: { roles: ALL_ISSUERS }, schema: { tags, summary: 'Get a user', params, response: { 200: userSchema } } },
    async (request) => (await getUser(app.ctx.db, request.params.id)) ?? Promise.reject(notFound('User')),
  );

  app.put(
    '/v1/users/:id',
    {
      config: { roles: ALL_ISSUERS, event: { type: 'USER_UPDATE', category } },
      schema: { tags, summary: "Replace a user's claims", params, body: userBody, response: { 200: userSchema } },
    },
    async (request) =>
      evented(app.ctx.db, request, async (trx) => {
        const user = await replaceUserClaims(trx, request.params.id, request.body.claims);
        if (!user) throw notFound('User');
        return { result: user, data: { userId: user.id } };
      }),
  );

  app.delete(
    '/v1/users/:id',
    {
      config: { roles: ALL_ISSUERS, event: { type: 'USER_DELETE', category } },
      schema: { tags, summary: 'Delete a user (credentials already issued stay valid)', params, response: { 204: z.null().describe('Deleted') } },
    },
    async (request, reply) => {
      await evented(app.ctx.db, request, async (trx) => {
        if (!(await deleteUser(trx, request.params.id))) throw notFound('User');
        return { result: undefined, data: { userId: request.params.id } };
      });
      return reply.status(204).send(null);
    },
  );
}
