import { z } from 'zod';
import { listAllConfigurations } from '../configurations/store.js';
import type { App } from '../context.js';
import type { MetadataDialect } from '../formats/format.js';
import { publishedJwks } from '../keys/issuer-keys.js';
import { WELL_KNOWN } from '../protocol.js';
import { authorizationServerMetadata, credentialIssuerMetadata } from './documents.js';

/**
 * `/.well-known/<name>` locations for an identifier, each with the wallets that look there: with a
 * path component, OID4VCI 1.0 (§12.2.2, like RFC 8414 §3) inserts it between host and path, draft
 * 13 appended it; without one, both look at the same place.
 */
export function wellKnownLocations(publicUrl: string, name: string): { path: string; dialect: MetadataDialect }[] {
  const path = new URL(publicUrl).pathname.replace(/\/$/, '');
  if (!path) return [{ path: `/.well-known/${name}`, dialect: 'both' }];
  return [
    { path: `/.well-known/${name}${path}`, dialect: '1.0' },
    { path: `${path}/.well-known/${name}`, dialect: 'draft13' },
  ];
}

const wellKnownPaths = (publicUrl: string, name: string): string[] => wellKnownLocations(publicUrl, name).map((location) => location.path);

const document = z.record(z.string(), z.unknown());
const tags = ['Metadata'];

export async function metadataRoutes(app: App) {
  const { config } = app.ctx;
  const cacheable = { 'cache-control': 'public, max-age=60' };

  for (const { path, dialect } of wellKnownLocations(config.publicUrl, WELL_KNOWN.credentialIssuer)) {
    const summary =
      dialect === 'both'
        ? 'Credential Issuer metadata (OpenID4VCI 1.0 §12.2, readable by draft 13 wallets too)'
        : dialect === '1.0'
          ? 'Credential Issuer metadata for OpenID4VCI 1.0 wallets (§12.2)'
          : 'Credential Issuer metadata for draft 13 wallets (§10.2)';
    app.get(path, { config: { crossOrigin: 'public' }, schema: { tags, summary, response: { 200: document } } }, async (_request, reply) =>
      reply
        .headers(cacheable)
        .send((await app.ctx.caches.issuerMetadata.get(dialect, async () => credentialIssuerMetadata(config, await listAllConfigurations(app.ctx.db), dialect)))!),
    );
  }
  for (const url of wellKnownPaths(config.publicUrl, WELL_KNOWN.authorizationServer)) {
    app.get(url, { config: { crossOrigin: 'public' }, schema: { tags, summary: 'OAuth 2.0 Authorization Server metadata (RFC 8414)', response: { 200: document } } }, async (_request, reply) =>
      reply.headers(cacheable).send(authorizationServerMetadata(config)),
    );
  }
  for (const url of wellKnownPaths(config.publicUrl, WELL_KNOWN.jwtVcIssuer)) {
    app.get(url, { config: { crossOrigin: 'public' }, schema: { tags, summary: 'SD-JWT VC issuer metadata: the keys credentials are signed with', response: { 200: document } } }, async (_request, reply) =>
      reply.headers(cacheable).send((await app.ctx.caches.jwtVcIssuer.get('document', async () => ({ issuer: config.publicUrl, jwks: await publishedJwks(app.ctx) })))!),
    );
  }
}
