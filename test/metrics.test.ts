import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { WALLET_PATHS } from '../src/protocol.js';
import { OFFERS, USERS, credentialRequest, httpClient, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt } from './support/wallet.js';

// GET /metrics over real HTTP, on its own listener, after a real flow: offer, token, credential.

const METRICS_TOKEN = `metrics-${randomBytes(24).toString('hex')}`;
// A claim value distinctive enough to search the scrape for.
const CLAIM_VALUE = `Zephyrine${randomBytes(6).toString('hex')}`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format (0.0.4), strictly: every line a comment or a sample. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)",?/g)) labels[name!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);

let issuer: TestIssuer;
let wallet: IssuerClient;

async function scrape(authorization: string | null = `Bearer ${METRICS_TOKEN}`) {
  const response = await fetch(issuer.metricsUrl, { headers: authorization ? { authorization } : {} });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

async function samples(): Promise<Sample[]> {
  const { status, text } = await scrape();
  expect(status).toBe(200);
  return parseExposition(text);
}

beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true, env: { METRICS_TOKEN, TX_CODE_MAX_ATTEMPTS: '2', SWEEP_INTERVAL_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '0' } });
  wallet = httpClient(issuer.url, { key: issuer.adminKey });
});
afterAll(async () => {
  await wallet?.close();
  await issuer?.close();
});

describe('GET /metrics', () => {
  it('is served on its own loopback port, only with METRICS_TOKEN, and not on the public port', async () => {
    expect(new URL(issuer.metricsUrl).hostname).toBe('127.0.0.1');
    expect(new URL(issuer.metricsUrl).port).not.toBe(new URL(issuer.url).port);
    for (const authorization of [null, 'Bearer wrong', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN, `Basic ${METRICS_TOKEN}`]) {
      const refused = await scrape(authorization);
      expect(refused.status, String(authorization)).toBe(401);
      expect(refused.text).not.toContain('vci_');
    }
    const scraped = await scrape();
    expect(scraped.status).toBe(200);
    expect(scraped.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseExposition(scraped.text).length).toBeGreaterThan(20);
    expect((await fetch(new URL('/other', issuer.metricsUrl))).status).toBe(404);

    const onPublicPort = await fetch(`${issuer.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(onPublicPort.status).toBe(404);
    expect(await onPublicPort.text()).not.toContain('vci_');
  });

  it('counts an offer, each redemption outcome and the credentials issued; labels carry route patterns, never ids, codes or claims', async () => {
    const before = await samples();
    const configuration = await wallet.createConfiguration({ claimMappings: { name: { mapFrom: 'claims.name', required: true } } });
    const user = await wallet.createUser({ name: CLAIM_VALUE });

    const plain = await wallet.createOffer({ credentials: [configuration.id], userId: user.id });
    const { token } = await wallet.redeem(plain);
    // wrong transaction code, then locked (TX_CODE_MAX_ATTEMPTS=2), then locked again on the cold path
    const guarded = await wallet.createOffer({ credentials: [configuration.id], userId: user.id, transactionCodeConfiguration: {} });
    for (let i = 0; i < 3; i++) expect((await wallet.requestToken({ 'pre-authorized_code': guarded.code, tx_code: 'wrong' })).statusCode).toBe(400);
    // expired
    const expired = await wallet.createOffer({ credentials: [configuration.id], userId: user.id });
    await issuer.database.pool.query("UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
    expect((await wallet.requestToken({ 'pre-authorized_code': expired.code })).statusCode).toBe(400);
    // a credential: two, from a batch of two proofs
    const nonce = await wallet.nonce();
    const proofs = [await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce }), await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce: await wallet.nonce() })];
    const issued = await wallet.requestCredential(token, credentialRequest(configuration.id, proofs));
    expect(issued.statusCode).toBe(200);
    // a replay (which revokes the token: last)
    expect((await wallet.requestToken({ 'pre-authorized_code': plain.code })).statusCode).toBe(400);
    // an OAuth error at the credential endpoint, a management 404 on a route with a parameter, and a URL no route matches
    expect((await wallet.requestCredential('not-a-token', credentialRequest(configuration.id, proofs))).statusCode).toBe(401);
    const missingUser = `${USERS}/${'0'.repeat(8)}-0000-4000-8000-${randomBytes(6).toString('hex')}`;
    expect((await wallet.get(missingUser)).statusCode).toBe(404);
    expect((await wallet.get(`/no-such-route-${randomBytes(6).toString('hex')}`)).statusCode).toBe(404);

    const { text } = await scrape();
    const after = parseExposition(text);
    const delta = (name: string, labels?: Record<string, string>) => sum(after, name, labels) - sum(before, name, labels);
    expect(delta('vci_offers_created_total')).toBe(3);
    expect(delta('vci_token_redemptions_total', { outcome: 'success' })).toBe(1);
    expect(delta('vci_token_redemptions_total', { outcome: 'replay' })).toBe(1);
    expect(delta('vci_token_redemptions_total', { outcome: 'wrong_tx_code' })).toBe(1);
    expect(delta('vci_token_redemptions_total', { outcome: 'locked' })).toBe(2);
    expect(delta('vci_token_redemptions_total', { outcome: 'expired' })).toBe(1);
    expect(delta('vci_credentials_issued_total', { format: 'dc+sd-jwt', configuration_id: configuration.id })).toBe(2);
    expect(delta('vci_oauth_errors_total', { error: 'invalid_grant' })).toBe(5);
    expect(delta('vci_oauth_errors_total', { error: 'invalid_token' })).toBe(1);

    expect(delta('vci_http_requests_total', { route: WALLET_PATHS.token, method: 'POST', status_class: '2xx' })).toBe(1);
    expect(delta('vci_http_requests_total', { route: WALLET_PATHS.token, method: 'POST', status_class: '4xx' })).toBe(5);
    expect(delta('vci_http_requests_total', { route: '/v1/users/:id', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(delta('vci_http_requests_total', { route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(delta('vci_http_request_duration_seconds_count', { route: WALLET_PATHS.credential, method: 'POST' })).toBe(2);
    expect(sum(after, 'vci_http_request_duration_seconds_bucket', { route: WALLET_PATHS.credential, method: 'POST', le: '+Inf' })).toBe(
      sum(after, 'vci_http_request_duration_seconds_count', { route: WALLET_PATHS.credential, method: 'POST' }),
    );

    // No personal data or secrets: not the claim, the user, the offers, the codes, the token, the URLs asked for.
    for (const secret of [CLAIM_VALUE, user.id, plain.id, plain.code, guarded.code, token, missingUser, 'no-such-route', METRICS_TOKEN, issuer.adminKey]) {
      expect(text).not.toContain(secret);
    }
    const routes = new Set(after.filter((s) => s.name === 'vci_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) expect(route === 'unmatched' || !/[0-9a-f]{8}-[0-9a-f]{4}/.test(route!), route).toBe(true);
    expect(routes).toContain(`${OFFERS}`);
  });

  it('reports the database pool and the sweeps, read when scraped', async () => {
    const scraped = await samples();
    expect(sum(scraped, 'vci_db_pool_connections', { state: 'max' })).toBe(5);
    expect(sum(scraped, 'vci_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    expect(scraped.some((s) => s.name === 'vci_db_pool_connections' && s.labels.state === 'in_use')).toBe(true);
    expect(scraped.some((s) => s.name === 'vci_db_pool_waiting_requests')).toBe(true);
    expect(scraped.some((s) => s.name === 'vci_process_cpu_seconds_total')).toBe(true);

    // A revoked offer past the retention period is swept (RETENTION_SECONDS is at least the token lifetime, 300 s).
    const configuration = await wallet.createConfiguration();
    const offer = await wallet.createOffer({ credentials: [configuration.id] });
    await issuer.database.pool.query("UPDATE offers SET expires_at = now() - interval '1 day' WHERE id = $1", [offer.id]);
    const deadline = Date.now() + 10_000;
    let swept = 0;
    while (Date.now() < deadline && swept < 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      swept = sum(await samples(), 'vci_swept_rows_total', { table: 'offers' });
    }
    expect(swept).toBeGreaterThanOrEqual(1);
    expect(sum(await samples(), 'vci_sweeps_total', { outcome: 'done' })).toBeGreaterThanOrEqual(1);
  });
});

describe('METRICS_* settings', () => {
  it('need METRICS_TOKEN before the metrics listen beyond loopback, and a port of their own', () => {
    expect(loadConfig({}).metrics).toEqual({ host: '127.0.0.1', port: 9464, token: undefined });
    expect(() => loadConfig({ METRICS_HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_HOST: '0.0.0.0' })).toThrow(/METRICS_TOKEN is required when METRICS_HOST is not a loopback address/);
    expect(loadConfig({ METRICS_HOST: '0.0.0.0', METRICS_TOKEN }).metrics.host).toBe('0.0.0.0');
    expect(loadConfig({ METRICS_HOST: '::1' }).metrics.host).toBe('::1');
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/^Invalid configuration: METRICS_TOKEN must be at least 32 characters$/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short-token-value' })).not.toThrow(/short-token-value/);
    expect(() => loadConfig({ PORT: '9000', METRICS_PORT: '9000' })).toThrow(/METRICS_PORT must differ from PORT/);
  });

  it('a second instance on a taken METRICS_PORT fails to start, naming the setting', async () => {
    const port = new URL(issuer.metricsUrl).port;
    const failed = await startTestIssuer({ listen: true, databaseUrl: issuer.databaseUrl, env: { METRICS_PORT: port } }).then(
      async (second) => (await second.close(), undefined),
      (error: unknown) => error as Error,
    );
    expect(failed?.message).toMatch(new RegExp(`METRICS_PORT ${port} on 127.0.0.1 is in use`));
  });
});
