import { z } from 'zod';
import type { App } from '../context.js';
import { OAuthError } from '../errors/oauth.js';
import { oauthErrorSchema } from '../errors/render.js';
import { STATUS_LIST_PATHS, type StatusListKind } from '../protocol.js';
import { STATUS_LIST_MEDIA_TYPES } from './tokens.js';
import { statusListDistribution, statusListToken } from './use-cases.js';

const tags = ['Token Status Lists'];

/** Whether an Accept header lets `mediaType` be sent (no header: anything). */
function accepts(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const [type] = mediaType.split('/');
  return accept
    .split(',')
    .map((range) => range.split(';')[0]!.trim().toLowerCase())
    .some((range) => range === mediaType || range === `${type}/*` || range === '*/*');
}

/** RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly. */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

/**
 * The Status List Tokens and their aggregation (draft-ietf-oauth-status-list §8, §9), public (no
 * authentication), readable from any origin; registered inside the wallet-facing scope, under
 * PUBLIC_URL's path, where the credentials' `status.status_list.uri` points.
 */
export async function statusListRoutes(app: App) {
  const { ttlSeconds } = app.ctx.config.statusLists;
  for (const kind of Object.keys(STATUS_LIST_PATHS) as StatusListKind[]) {
    const mediaType = STATUS_LIST_MEDIA_TYPES[kind];
    const credentials = kind === 'jwt' ? 'SD-JWT VCs' : 'mDocs';

    app.get(
      `${STATUS_LIST_PATHS[kind]}/:id/token`,
      {
        config: { crossOrigin: 'public' },
        schema: {
          tags,
          summary: `A Status List Token of ${credentials} (${mediaType}); If-None-Match with its ETag answers 304`,
          params: z.object({ id: z.uuid() }),
          produces: [mediaType],
          response: { 200: z.unknown().describe(kind === 'jwt' ? 'The JWT (compact serialisation)' : 'The CWT (binary COSE_Sign1_Tagged)'), 304: z.null().describe('Not modified: the copy the client holds is current'), 404: oauthErrorSchema, 406: oauthErrorSchema },
        },
      },
      async (request, reply) => {
        const list = await statusListToken(app.ctx, request.params.id);
        if (!list || list.kind !== kind) throw new OAuthError('invalid_request', 'There is no such status list', 404);
        if (!accepts(request.headers.accept, list.mediaType)) throw new OAuthError('invalid_request', `This status list is served as ${list.mediaType} only`, 406);
        // §14.5: verifiers cache for the token's ttl (its claims win over these headers); never past its exp.
        const maxAge = Math.max(0, Math.min(ttlSeconds, Math.floor((list.expiresAt.getTime() - Date.now()) / 1000)));
        // No Last-Modified: two tokens signed within one second would share it. The ETag is the bytes' digest.
        reply.header('etag', list.etag).header('cache-control', `public, max-age=${maxAge}`).header('vary', 'accept');
        if (matchesEtag(request.headers['if-none-match'], list.etag)) return reply.status(304).send(null);
        return reply.type(list.mediaType).send(list.bytes);
      },
    );

    app.get(
      `${STATUS_LIST_PATHS[kind]}/distribution`,
      {
        config: { crossOrigin: 'public' },
        schema: {
          tags,
          summary: `The Status List Aggregation of ${credentials} (§9; MATTR VII's distribution): the URIs of every list still signed`,
          response: { 200: z.object({ status_lists: z.array(z.string()) }).meta({ id: 'StatusListAggregation' }) },
        },
      },
      async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(await statusListDistribution(app.ctx, kind)),
    );
  }
}
