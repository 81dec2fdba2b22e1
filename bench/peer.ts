import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRE_AUTHORIZED_GRANT } from '../src/protocol.js';
import { decodeOfferUri, httpClient, type HttpResponse, type IssuerClient } from '../test/support/client.js';
import { spawnService, type ServiceProcess } from '../test/support/processes.js';
import type { StepStats } from './stats.js';
import { proofJwt, type FlowContext } from './wallet-flow.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the peer is installed: its source folder may be read-only, and its dependencies are its own. */
const INSTALL_DIR = path.join(ROOT, 'node_modules', '.cache', 'bench-peer');

export interface Peer {
  service: ServiceProcess;
  client: IssuerClient;
  publicUrl: string;
  configurationId: string;
  paths: { token: string; nonce: string; credential: string };
}

/**
 * The peer issuer of `source` (e.g. ../shared/peers/sphereon: a package with server.mjs and a
 * lockfile), installed once with `npm ci` into node_modules/.cache and started on a free port.
 */
export async function startPeer(source: string, connections: number): Promise<Peer> {
  const lock = readFileSync(path.join(source, 'package-lock.json'), 'utf8');
  const installed = path.join(INSTALL_DIR, 'package-lock.json');
  if (!existsSync(installed) || readFileSync(installed, 'utf8') !== lock || !existsSync(path.join(INSTALL_DIR, 'node_modules'))) {
    mkdirSync(INSTALL_DIR, { recursive: true });
    for (const file of ['package.json', 'server.mjs']) cpSync(path.join(source, file), path.join(INSTALL_DIR, file));
    writeFileSync(path.join(INSTALL_DIR, 'package-lock.json'), lock);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: INSTALL_DIR, stdio: 'inherit' });
  } else {
    cpSync(path.join(source, 'server.mjs'), path.join(INSTALL_DIR, 'server.mjs'));
  }
  const service = await spawnService(['node', 'server.mjs'], { env: { NODE_ENV: 'production' }, readyPath: '/.well-known/openid-credential-issuer', cwd: INSTALL_DIR });
  const client = httpClient(service.url, { connections });
  const issuer = (await client.get('/.well-known/openid-credential-issuer', null)).json();
  const authorizationServer = (await client.get('/.well-known/oauth-authorization-server', null)).json();
  const pathOf = (url: string) => new URL(url).pathname;
  return {
    service,
    client,
    publicUrl: issuer.credential_issuer,
    configurationId: Object.keys(issuer.credential_configurations_supported)[0]!,
    paths: { token: pathOf(authorizationServer.token_endpoint), nonce: pathOf(issuer.nonce_endpoint), credential: pathOf(issuer.credential_endpoint) },
  };
}

function accepted(stats: StepStats, step: string, response: HttpResponse) {
  if (response.statusCode < 200 || response.statusCode > 201) {
    stats.fail(step, `${response.statusCode} ${response.body.slice(0, 200)}`);
    return undefined;
  }
  stats.record(step, response.endedAt! - response.startedAt!);
  return response.json();
}

/** The peer's offers: a 4-digit transaction code, as vci-issuer's flows have one. */
export async function createPeerOffer(peer: Peer, stats: StepStats) {
  const body = { credential_configuration_ids: [peer.configurationId], grants: { [PRE_AUTHORIZED_GRANT]: { tx_code: { input_mode: 'numeric', length: 4 } } } };
  return accepted(stats, 'offer', await peer.client.post('/webapp/credential-offers', body, null)) as { uri: string; userPin: string } | undefined;
}

/** The same steps as vci-issuer's wallet flow, with the peer's paths and its draft 15 singular `proof`. */
export async function peerFlow(peer: Peer, ctx: Pick<FlowContext, 'keys' | 'stats'>, index: number): Promise<boolean> {
  const started = performance.now();
  const offer = await createPeerOffer(peer, ctx.stats);
  if (!offer) return false;
  const code = decodeOfferUri(offer.uri).grants[PRE_AUTHORIZED_GRANT]!['pre-authorized_code'];
  const form = new URLSearchParams({ grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': code, tx_code: offer.userPin }).toString();
  const token = accepted(ctx.stats, 'token', await peer.client.send({ method: 'POST', path: peer.paths.token, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }));
  if (!token) return false;
  const nonce = accepted(ctx.stats, 'nonce', await peer.client.send({ method: 'POST', path: peer.paths.nonce }));
  if (!nonce) return false;
  const key = ctx.keys[index % ctx.keys.length]!;
  const request = { credential_configuration_id: peer.configurationId, proof: { proof_type: 'jwt', jwt: proofJwt(key, peer.publicUrl, nonce.c_nonce) } };
  const credential = accepted(ctx.stats, 'credential', await peer.client.call('POST', peer.paths.credential, request, token.access_token));
  if (!credential) return false;
  const sdJwt: string = credential.credentials?.[0]?.credential ?? credential.credential ?? '';
  const payload = JSON.parse(Buffer.from(sdJwt.split('~')[0]!.split('.')[1] ?? '', 'base64url').toString() || '{}');
  if (payload.cnf?.jwk?.x !== key.jwk.x) {
    ctx.stats.fail('parse', 'unexpected credential');
    return false;
  }
  ctx.stats.record('flow', performance.now() - started);
  return true;
}
