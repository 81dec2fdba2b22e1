import { z } from 'zod';
import { listAllConfigurations } from '../configurations/store.js';
import type { App } from '../context.js';
import { publishedJwks } from '../keys/issuer-keys.js';
import { WELL_KNOWN } from '../protocol.js';
import { authorizationServerMetadata, credentialIssuerMetadata } from './documents.js';

/**
 * `/.well-known/<name>` paths for an identifier with a path component: inserted between host and
 * path (OID4VCI 1.0 §12.2.2, RFC 8414 §3) and appended after it (draft 13).
 */
export function wellKnownPaths(publicUrl: string, name: string): string[] {
  const path = new URL(publicUrl).pathname.replace(/\/$/, '');
  return path ? [`/.well-known/${name}${path}`, `${path}/.well-known/${name}`] : [`/.well-known/${name}`];
}

const document = z.record(z.string(), z.unknown());
const tags = ['Metadata'];

export async function metadataRoutes(app: App) {
  const { config } = app.ctx;
  const cacheable = { 'cache-control': 'public, max-age=60' };

  for (const url of wellKnownPaths(config.publicUrl, WELL_KNOWN.credentialIssuer)) {
    app.get(url, { schema: { tags, summary: 'Credential Issuer metadata (OpenID4VCI 1.0 §12.2)', response: { 200: document } } }, async (_request, reply) =>
      reply
        .headers(cacheable)
        .send((await app.ctx.caches.issuerMetadata.get('document', async () => credentialIssuerMetadata(config, await listAllConfigurations(app.ctx.db))))!),
    );
  }
  for (const url of wellKnownPaths(config.publicUrl, WELL_KNOWN.authorizationServer)) {
    app.get(url, { schema: { tags, summary: 'OAuth 2.0 Authorization Server metadata (RFC 8414)', response: { 200: document } } }, async (_request, reply) =>
      reply.headers(cacheable).send(authorizationServerMetadata(config)),
    );
  }
  for (const url of wellKnownPaths(config.publicUrl, WELL_KNOWN.jwtVcIssuer)) {
    app.get(url, { schema: { tags, summary: 'SD-JWT VC issuer metadata: the keys credentials are signed with', response: { 200: document } } }, async (_request, reply) =>
      reply.headers(cacheable).send((await app.ctx.caches.jwtVcIssuer.get('document', async () => ({ issuer: config.publicUrl, jwks: await publishedJwks(app.ctx) })))!),
    );
  }
}
