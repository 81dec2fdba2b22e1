import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { createAppContext } from '../src/context.js';
import { loadConfig } from '../src/config.js';
import { SecretKeys } from '../src/crypto/secrets.js';
import { connectDatabase } from '../src/db/database.js';
import { freePort } from '../src/net.js';
import { Invalidations } from '../src/db/invalidation.js';
import { migrate } from '../src/db/migrate.js';
import { httpClient, preAuthorizedCodeOf, type IssuerClient } from '../test/support/client.js';
import { createDatabase, dropDatabases, startPostgresServer } from '../test/support/databases.js';
import { spawnIssuer, spawnService, type ServiceProcess } from '../test/support/processes.js';
import { processCpuSeconds, processRssBytes } from './cpu.js';
import { sqlFlow } from './sql-flow.js';
import { Phase } from './phase.js';
import { StepStats, median, round, runClosedLoop } from './stats.js';
import { createPeerOffer, peerFlow, startPeer } from './peer.js';
import { createOffer, redeem, walletFlow, walletKeys, type FlowContext } from './wallet-flow.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'flow' },
    /** In flight at once; "auto" finds, for each phase, the concurrency at which its throughput stops growing. */
    concurrency: { type: 'string', default: 'auto' },
    'ramp-seconds': { type: 'string', default: '2' },
    /** Seconds per phase per round. */
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    'pool-size': { type: 'string', default: '10' },
    /** Another checkout of this repository (with its node_modules), measured in the same rounds: before/after a change. */
    baseline: { type: 'string' },
    /** A peer issuer to measure side by side (../shared/peers/sphereon): the same load generator, the same rounds. */
    peer: { type: 'string' },
    'seed-offers': { type: 'string', default: '0' },
    'memory-flows': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
    'no-ceilings': { type: 'boolean', default: false },
    /** Write a V8 CPU profile of the service to this directory (open it in Chrome DevTools). */
    'cpu-prof': { type: 'string' },
  },
});

const mode = args.mode as 'flow' | 'offers' | 'token' | 'status';
if (!['flow', 'offers', 'token', 'status'].includes(mode)) throw new Error('--mode must be flow, offers, token or status');
const fixedConcurrency = args.concurrency === 'auto' ? undefined : Number(args.concurrency);
/** For what is not a measured phase (warm-up, pre-created offers, the memory run). */
const concurrency = fixedConcurrency ?? 16;
const rampSeconds = Number(args['ramp-seconds']);
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const warmup = Number(args.warmup);
const poolSize = Number(args['pool-size']);
const seedOffers = Number(args['seed-offers']);
const memoryFlows = Number(args['memory-flows']);
const log = (line: string) => {
  if (!args.json) console.error(line);
};

type RatioName =
  | 'offersOverCeiling1'
  | 'flowsOverCeiling2'
  | 'seededOverEmpty'
  | 'offersOverBaseline'
  | 'flowsOverBaseline'
  | 'statusFlowsOverPlainFlows'
  | 'offersOverPeer'
  | 'flowsOverPeer';

const SECRET = randomBytes(32).toString('base64url');
const ADMIN_KEY = `bench-admin-${randomBytes(24).toString('hex')}`;

/** N offers and their events in a few seconds: generate_series, mostly long expired or redeemed, as under steady load. */
async function seed(pool: pg.Pool, count: number) {
  await pool.query(
    `INSERT INTO offers (id, code_hash, user_id, configuration_ids, claims, status, expires_at, created_at, redeemed_at)
     SELECT gen_random_uuid(), sha256(('seed-' || i)::bytea), gen_random_uuid(), ARRAY[gen_random_uuid()], '{"givenName":"Seed"}',
            CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'redeemed' END,
            now() - interval '1 minute' + (i % 600) * interval '1 second', now() - interval '1 hour', NULL
     FROM generate_series(1, $1) AS i`,
    [count],
  );
  // Their events, as the flows that made them would have left: five per offer (START and SUCCESS of
  // the offer, the token and, for most, the credential), a millisecond apart.
  await pool.query(
    `INSERT INTO events (id, type, category, timestamp, request_id, actor, data)
     SELECT gen_random_uuid(), (ARRAY['OPENID_PRE_AUTHORIZED_OFFER_CREATE_START', 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS',
                                      'OPENID_TOKEN_CREATE_START', 'OPENID_TOKEN_CREATE_SUCCESS', 'OPENID_CREDENTIAL_ISSUE_SUCCESS'])[1 + i % 5],
            'OpenId', now() - interval '1 hour' + i * interval '1 millisecond', 'seed-' || (i / 5), NULL, '{}'
     FROM generate_series(1, $1 * 5) AS i`,
    [count],
  );
  // As a table that grew under load would be: vacuumed (visibility map set, so autovacuum does not
  // scan a million fresh rows during the measurement) and checkpointed (the load's dirty pages written).
  await pool.query('VACUUM (ANALYZE)');
  await pool.query('CHECKPOINT').catch((error) => log(`  no CHECKPOINT (${(error as Error).message}): the first seconds may include its writes`));
}

/** Every index scan node in an EXPLAIN has an Index Cond: it looks rows up rather than walking the whole index. */
function everyIndexScanHasCondition(lines: string[]): boolean {
  return lines.every((line, i) => {
    if (!/Index (Only )?Scan/.test(line)) return true;
    const detail = lines.slice(i + 1).findIndex((next) => next.includes('->'));
    return lines.slice(i + 1, detail === -1 ? undefined : i + 1 + detail).some((next) => next.includes('Index Cond'));
  });
}

/** EXPLAIN of every statement on the hot path, on the tables as the run left them: each must look rows up through an index. */
async function explainHotQueries(pool: pg.Pool) {
  const hash = randomBytes(32);
  const queries: Record<string, [string, unknown[]]> = {
    'api key look-up': ['SELECT id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hash]],
    'configurations for offer': ['SELECT id FROM credential_configurations WHERE id = ANY ($1::uuid[]) FOR KEY SHARE', [['00000000-0000-0000-0000-000000000000']]],
    'redeem (offer by code)': ["UPDATE offers SET status = 'redeemed' WHERE code_hash = $1 AND status = 'pending' AND expires_at > now()", [hash]],
    'offer state by code': ['SELECT id, status FROM offers WHERE code_hash = $1', [hash]],
    'access token look-up': ['SELECT * FROM access_tokens t JOIN offers o ON o.id = t.offer_id WHERE t.token_hash = $1', [hash]],
    'mark configuration issued': ['UPDATE access_tokens SET revoked_at = now() WHERE id = $1', ['00000000-0000-0000-0000-000000000000']],
    'used nonce insert': ['INSERT INTO used_nonces VALUES ($1, now()) ON CONFLICT DO NOTHING', [hash]],
    'live offers of a configuration': [
      "SELECT id FROM offers WHERE status = 'pending' AND expires_at > now() AND configuration_ids @> ARRAY[$1]::uuid[] LIMIT 1",
      ['00000000-0000-0000-0000-000000000000'],
    ],
    'sweeper batch (expired offers)': ["SELECT ctid FROM offers WHERE expires_at < now() - interval '1 day' LIMIT 1000", []],
    'offers of a user (list)': ['SELECT id FROM offers WHERE user_id = $1 ORDER BY seq DESC LIMIT 101', ['00000000-0000-0000-0000-000000000000']],
  };
  const client = await pool.connect();
  const results: Record<string, { plan: string; indexed: boolean }> = {};
  try {
    // Statistics of the tables as the run left them (access tokens and used nonces are empty before it).
    await client.query('ANALYZE');
    await client.query('BEGIN');
    // Tiny tables (API keys, configurations) are scanned whatever their indexes; with sequential
    // scans priced out, a remaining Seq Scan means no index can serve the query at all.
    await client.query('SET LOCAL enable_seqscan = off');
    for (const [name, [sql, values]] of Object.entries(queries)) {
      const { rows } = await client.query(`EXPLAIN ${sql}`, values);
      const lines = rows.map((row) => row['QUERY PLAN'] as string);
      const plan = lines.join(' | ');
      results[name] = { plan, indexed: !/Seq Scan on (offers|access_tokens|api_keys|used_nonces|credential_configurations)\b/.test(plan) && everyIndexScanHasCondition(lines) };
    }
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
  return results;
}

/** Four selectively disclosable claims (as the peer issues) and one always disclosed. */
const BENCH_CLAIM_MAPPINGS = {
  given_name: { mapFrom: 'claims.givenName', required: true },
  family_name: { mapFrom: 'claims.familyName', required: true },
  email: { mapFrom: 'claims.email' },
  birthdate: { mapFrom: 'claims.birthdate' },
  member_number: { mapFrom: 'claims.memberNumber', selectivelyDisclosable: false },
};

interface Issuer {
  service: ServiceProcess;
  /** Over the bench's own connection pool, as a stored issuer API key. */
  client: IssuerClient;
  publicUrl: string;
  configurationId: string;
  apiKey: string;
}

/**
 * The service as its own process on `databaseUrl` (migrated already, unless `checkout` is another
 * one: it then migrates its database itself), with a credential configuration and an issuer API key.
 */
/**
 * Compiles a checkout as `npm start` would run it (only what changed since its last build). Older
 * checkouts without scripts/build.mjs run from their sources through tsx instead.
 */
function compile(checkout: string): boolean {
  if (!existsSync(path.join(checkout, 'scripts/build.mjs'))) return false;
  // Its output goes to stderr: stdout is the report (--json).
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: checkout, stdio: ['ignore', 2, 2] });
  return true;
}

async function startService(databaseUrl: string, connections: number, options: { nodeArgs?: string[]; checkout?: string } = {}): Promise<Issuer> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const service = await spawnIssuer({
    databaseUrl,
    port,
    nodeArgs: options.nodeArgs,
    cwd: options.checkout,
    compiled: compile(options.checkout ?? ROOT),
    // NODE_ENV=test: production would insist on an https PUBLIC_URL, which a loopback benchmark has not.
    env: { NODE_ENV: 'test', DATABASE_POOL_SIZE: String(poolSize), SECRET, ADMIN_API_KEY: ADMIN_KEY, PUBLIC_URL: publicUrl, MIGRATE_ON_START: options.checkout ? 'true' : 'false' },
  });
  const admin = httpClient(service.url, { key: ADMIN_KEY, connections });
  try {
    const configuration = await admin.createConfiguration({
      type: 'https://credentials.example.com/membership',
      claimMappings: BENCH_CLAIM_MAPPINGS,
      expiresIn: { years: 1 },
    });
    // Back-ends use stored API keys (looked up per request), not the environment's admin key.
    const { key } = await admin.createKey('issuer', 'bench');
    return { service, client: admin.as(key), publicUrl, configurationId: configuration.id, apiKey: key };
  } catch (error) {
    await admin.close();
    await service.stop();
    throw error;
  }
}

async function main() {
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version };
  const server = await startPostgresServer(process.env.DATABASE_URL, 'vci-issuer-bench-');
  const { name: benchDatabase, url: databaseUrl } = await createDatabase(server.url, `vci_bench_${Date.now()}`);
  const settings = new pg.Client({ connectionString: server.url });
  await settings.connect();
  const pgVersion = (await settings.query('SHOW server_version')).rows[0].server_version;
  const durability = Object.fromEntries(
    (await settings.query("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")).rows.map((r) => [r.name, r.setting]),
  );
  await settings.end();

  const services: ServiceProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const report: Record<string, unknown> = { machine, postgres: { version: pgVersion, ...durability }, mode, concurrency: args.concurrency, duration, rounds, poolSize, seedOffers };
  try {
    const setupPool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    await migrate(setupPool);
    if (seedOffers > 0) {
      log(`seeding ${seedOffers} offers…`);
      const started = performance.now();
      await seed(setupPool, seedOffers);
      log(`  seeded, vacuumed and checkpointed in ${round((performance.now() - started) / 1000, 1)} s`);
    }
    await setupPool.end();

    const connections = fixedConcurrency ? fixedConcurrency * 2 : 512;
    const issuer = await startService(databaseUrl, connections, { nodeArgs: args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`] : [] });
    services.push(issuer.service);
    cleanups.push(() => issuer.client.close());
    const { service, publicUrl } = issuer;
    const serviceCpu = () => processCpuSeconds(service.pid);

    let counter = 0;
    const keys = walletKeys(64);
    const contextOn = (on: Issuer, stats: StepStats): FlowContext => ({ client: on.client, publicUrl: on.publicUrl, configurationId: on.configurationId, keys, stats });
    const context = (stats: StepStats) => contextOn(issuer, stats);
    const onService = (name: string, task: (ctx: FlowContext) => Promise<boolean>, c = fixedConcurrency) =>
      new Phase(name, serviceCpu, (stats) => task(context(stats)), c, log);
    const flowTask = (ctx: FlowContext) => walletFlow(ctx, counter++);
    const offerTask = async (ctx: FlowContext) => Boolean(await createOffer(ctx, counter++));

    log(`warming up (${warmup} s)…`);
    await runClosedLoop({ concurrency, seconds: warmup, task: () => flowTask(context(new StepStats())) });
    const rssAfterWarmup = await processRssBytes(service.pid);

    const phases: Phase[] = [];
    const results: Record<string, unknown> = {};
    const offers = mode === 'flow' || mode === 'offers' ? onService('offers', offerTask) : undefined;
    const flow = mode === 'flow' ? onService('flow', flowTask) : undefined;
    let ceiling1: Phase | undefined;
    let ceiling2: Phase | undefined;
    let emptyTable: Phase | undefined;
    /** Each measured phase, and the yardstick it is divided by in every round. */
    const pairs: { measured: Phase; yardstick?: Phase; ratio?: RatioName }[] = [];

    if (offers) {
      phases.push(offers);
      if (!args['no-ceilings']) {
        // Ceiling 1 runs as its own process beside the (then idle) service, on the same database and pool size.
        const ceiling = await spawnService('bench/ceiling-http.ts', { env: { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(poolSize) }, readyPath: '/ready' });
        services.push(ceiling);
        const ceilingHttp = new Pool(ceiling.url, { connections });
        cleanups.push(() => ceilingHttp.close());
        const insertBody = JSON.stringify({ claims: { givenName: 'Ada', familyName: 'Lovelace', memberNumber: '1' } });
        const insert = async (stats: StepStats) => {
          const started = performance.now();
          const response = await ceilingHttp.request({ method: 'POST', path: '/insert', headers: { 'content-type': 'application/json' }, body: insertBody });
          await response.body.text();
          if (response.statusCode !== 201) {
            stats.fail('insert', String(response.statusCode));
            return false;
          }
          stats.record('insert', performance.now() - started);
          return true;
        };
        await runClosedLoop({ concurrency, seconds: warmup, task: () => insert(new StepStats()) });
        ceiling1 = new Phase('ceiling 1 (HTTP + one INSERT)', () => processCpuSeconds(ceiling.pid), insert, fixedConcurrency, log);
        phases.push(ceiling1);
      }
      pairs.push({ measured: offers, yardstick: ceiling1, ratio: 'offersOverCeiling1' });
    }
    if (flow) {
      phases.push(flow);
      if (!args['no-ceilings']) {
        // Ceiling 2 runs the service's own store functions inside this process, so its CPU (as "load
        // generator") includes the pg client's work.
        const database = connectDatabase(databaseUrl, poolSize);
        const invalidations = new Invalidations(databaseUrl);
        await invalidations.start();
        cleanups.push(() => invalidations.stop(), () => database.close());
        const ctx = createAppContext({ config: loadConfig({ NODE_ENV: 'test', PUBLIC_URL: publicUrl }), database, secrets: new SecretKeys(SECRET), invalidations });
        const sqlTask = async (stats: StepStats) => {
          const started = performance.now();
          try {
            await sqlFlow(ctx, { apiKey: issuer.apiKey, configurationId: issuer.configurationId, claims: { givenName: 'Ada', familyName: 'Lovelace', memberNumber: '1' } });
            stats.record('flow', performance.now() - started);
            return true;
          } catch (error) {
            stats.fail('flow', String(error));
            return false;
          }
        };
        await runClosedLoop({ concurrency, seconds: warmup, task: () => sqlTask(new StepStats()) });
        ceiling2 = new Phase('ceiling 2 (SQL of a flow)', async () => 0, sqlTask, fixedConcurrency, log);
        phases.push(ceiling2);
      }
      pairs.push({ measured: flow, yardstick: ceiling2, ratio: 'flowsOverCeiling2' });
      if (seedOffers > 0) {
        // Growth: the same flows against a second service on an empty database of the same server,
        // in the same rounds, so that the machine's drift between two separate runs does not decide.
        const empty = await createDatabase(server.url, `${benchDatabase}_empty`, { migrate: true });
        const control = await startService(empty.url, connections);
        services.push(control.service);
        cleanups.push(() => control.client.close());
        const controlTask = (stats: StepStats) => walletFlow(contextOn(control, stats), counter++);
        await runClosedLoop({ concurrency, seconds: warmup, task: () => controlTask(new StepStats()) });
        emptyTable = new Phase('flow on an empty table', () => processCpuSeconds(control.service.pid), controlTask, fixedConcurrency, log);
        phases.push(emptyTable);
        pairs.push({ measured: flow, yardstick: emptyTable, ratio: 'seededOverEmpty' });
      }
    }

    if (mode === 'status') {
      // Revocation (issue 14): flows whose credentials carry a status list entry against the same
      // flows without, interleaved; then status changes (one statement each) and list fetches (the
      // signed token served from the cache until a change).
      const withStatus = await issuer.client.createConfiguration({
        type: 'https://credentials.example.com/membership-with-status',
        claimMappings: BENCH_CLAIM_MAPPINGS,
        expiresIn: { years: 1 },
        includeStatus: true,
        statusListBits: 2,
      });
      const statusFlowTask = (ctx: FlowContext) => walletFlow({ ...ctx, configurationId: withStatus.id }, counter++);
      const plainFlows = onService('flow, includeStatus off', flowTask);
      const statusFlows = onService('flow, includeStatus on', statusFlowTask);
      phases.push(statusFlows, plainFlows);
      pairs.push({ measured: statusFlows, yardstick: plainFlows, ratio: 'statusFlowsOverPlainFlows' });

      log('issuing 64 credentials with status for the status-change and list-fetch phases…');
      const setup = context(new StepStats());
      await runClosedLoop({ concurrency: 8, seconds: 3, task: () => statusFlowTask(setup) });
      const { rows } = await (async () => {
        const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
        try {
          return await pool.query<{ id: string; listId: string }>(
            `SELECT c.id, c.status_list_id AS "listId" FROM credential_issuances c WHERE c.configuration_id = $1 LIMIT 64`,
            [withStatus.id],
          );
        } finally {
          await pool.end();
        }
      })();
      if (rows.length === 0) throw new Error('no credential with status was issued');
      let changes = 0;
      const statusChange = onService('status change', async (ctx) => {
        const credential = rows[changes % rows.length]!;
        const status = changes++ % (2 * rows.length) < rows.length ? 'suspended' : 'valid';
        const response = await ctx.client.post(`/v2/credentials/sd-jwt/${credential.id}/status`, { status });
        if (response.statusCode !== 201) {
          ctx.stats.fail('status', `${response.statusCode} ${response.body}`);
          return false;
        }
        ctx.stats.record('status', response.endedAt! - response.startedAt!);
        return true;
      });
      const listPath = `/v2/credentials/sd-jwt/status-lists/${rows[0]!.listId}/token`;
      const listFetch = onService('status list fetch', async (ctx) => {
        const response = await ctx.client.get(listPath, null);
        if (response.statusCode !== 200) {
          ctx.stats.fail('list', String(response.statusCode));
          return false;
        }
        ctx.stats.record('list', response.endedAt! - response.startedAt!);
        return true;
      });
      phases.push(statusChange, listFetch);
      pairs.push({ measured: statusChange }, { measured: listFetch });
      for (const phase of [statusFlows, plainFlows, statusChange, listFetch]) results[phase.name] = phase;
    }

    if (args.peer) {
      // Side by side: the peer in its own process on the same machine, driven by this load generator
      // with the same keys, transaction codes and concurrency, in the same interleaved rounds.
      const peer = await startPeer(path.resolve(args.peer), connections);
      services.push(peer.service);
      cleanups.push(() => peer.client.close());
      const peerCpu = () => processCpuSeconds(peer.service.pid);
      await runClosedLoop({ concurrency, seconds: warmup, task: () => peerFlow(peer, { keys, stats: new StepStats() }, counter++) });
      log(`peer: ${args.peer} (${peer.service.url})`);
      if (offers) {
        const peerOffers = new Phase('offers (peer)', peerCpu, async (stats) => Boolean(await createPeerOffer(peer, stats)), fixedConcurrency, log);
        phases.push(peerOffers);
        pairs.push({ measured: offers, yardstick: peerOffers, ratio: 'offersOverPeer' });
        results['offers (peer)'] = peerOffers;
      }
      if (flow) {
        const peerFlows = new Phase('flow (peer)', peerCpu, (stats) => peerFlow(peer, { keys, stats }, counter++), fixedConcurrency, log);
        phases.push(peerFlows);
        pairs.push({ measured: flow, yardstick: peerFlows, ratio: 'flowsOverPeer' });
        results['flow (peer)'] = peerFlows;
      }
      report.peer = args.peer;
    }

    if (args.baseline) {
      // Before/after: the same phases against a service from another checkout, on a database of its
      // own on the same server, in the same rounds.
      const checkout = path.resolve(args.baseline);
      const own = await createDatabase(server.url, `${benchDatabase}_baseline`);
      const baseline = await startService(own.url, connections, { checkout });
      services.push(baseline.service);
      cleanups.push(() => baseline.client.close());
      const onBaseline = (task: (ctx: FlowContext) => Promise<boolean>) => (stats: StepStats) => task(contextOn(baseline, stats));
      const baselineCpu = () => processCpuSeconds(baseline.service.pid);
      await runClosedLoop({ concurrency, seconds: warmup, task: () => onBaseline(flowTask)(new StepStats()) });
      log(`baseline: ${checkout}`);
      if (offers) {
        const baselineOffers = new Phase('offers (baseline)', baselineCpu, onBaseline(offerTask), fixedConcurrency, log);
        phases.push(baselineOffers);
        pairs.push({ measured: offers, yardstick: baselineOffers, ratio: 'offersOverBaseline' });
      }
      if (flow) {
        const baselineFlow = new Phase('flow (baseline)', baselineCpu, onBaseline(flowTask), fixedConcurrency, log);
        phases.push(baselineFlow);
        pairs.push({ measured: flow, yardstick: baselineFlow, ratio: 'flowsOverBaseline' });
      }
      report.baseline = checkout;
    }

    if (phases.length) {
      log(`finding each phase's saturating concurrency (${rampSeconds} s per level)…`);
      for (const phase of phases) {
        // Ceiling 2 and the empty-table control run as many flows in flight as the flows had, so each ratio compares like with like.
        if (phase === ceiling2 || phase === emptyTable) phase.concurrency ??= flow!.concurrency;
        // A baseline runs at the concurrency of the phase it is compared with.
        const compared = pairs.find((pair) => pair.yardstick === phase && (pair.ratio?.endsWith('OverBaseline') || pair.ratio?.endsWith('OverPeer')));
        if (compared) phase.concurrency ??= compared.measured.concurrency;
        await phase.saturate(rampSeconds);
      }
      const roundRatios: Record<RatioName, number[]> = {
        offersOverCeiling1: [],
        flowsOverCeiling2: [],
        seededOverEmpty: [],
        offersOverBaseline: [],
        flowsOverBaseline: [],
        statusFlowsOverPlainFlows: [],
        offersOverPeer: [],
        flowsOverPeer: [],
      };
      for (let index = 1; index <= rounds; index++) {
        const line: string[] = [];
        const rates = new Map<Phase, number>();
        for (const { measured, yardstick, ratio } of pairs) {
          let rate = rates.get(measured);
          if (rate === undefined) {
            rate = await measured.round(duration);
            rates.set(measured, rate);
            line.push(`${measured.name} ${rate}/s`);
          }
          if (!yardstick || !ratio) continue;
          const yardstickRate = await yardstick.round(duration);
          roundRatios[ratio].push(round(rate / yardstickRate));
          line.push(`${yardstick.name} ${yardstickRate}/s (ratio ${round(rate / yardstickRate)})`);
        }
        log(`  round ${index}/${rounds}: ${line.join(', ')}`);
      }
      for (const phase of phases) {
        const summary = phase.summary();
        log(`  ${phase.name}: median ${summary.perSecond}/s at concurrency ${summary.concurrency}, CPU ms each ${formatCpu(summary.cpuMsPerOp)}, ${phase.stats.errorCount} errors`);
      }
      for (const [name, value] of Object.entries(results)) if (value instanceof Phase) results[name] = value.summary();
      if (offers) results.offers = offers.summary();
      if (flow) {
        results.flow = flow.summary();
        log('complete flows at half the saturating concurrency (latency)…');
        const half = onService('flow at C/2', flowTask, Math.max(1, Math.floor(flow.concurrency! / 2)));
        await half.round(duration);
        results.flowHalfConcurrency = half.summary();
      }
      if (emptyTable) results.flowOnEmptyTable = emptyTable.summary();
      if (ceiling1 || ceiling2) report.ceilings = { ...(ceiling1 && { httpOneInsert: ceiling1.summary() }), ...(ceiling2 && { sqlOfFlow: ceiling2.summary() }) };
      if (pairs.some((pair) => pair.yardstick)) {
        // Each round's ratio compares two measurements taken back to back; the median round is reported.
        report.ratios = Object.fromEntries(Object.entries(roundRatios).filter(([, values]) => values.length).map(([name, values]) => [name, round(median(values))]));
        report.roundRatios = Object.fromEntries(Object.entries(roundRatios).filter(([, values]) => values.length));
      }
    }
    if (mode === 'token') {
      log('pre-creating offers for redemption…');
      const codes: { code: string; txCode?: string }[] = [];
      const prepareCtx = context(new StepStats());
      await runClosedLoop({
        concurrency,
        seconds: duration * rounds,
        task: async () => {
          const offer = await createOffer(prepareCtx, counter++);
          if (offer) codes.push({ code: preAuthorizedCodeOf(offer.uri), txCode: offer.transactionCode === undefined ? undefined : String(offer.transactionCode) });
          return Boolean(offer);
        },
      });
      log(`token redemption (${codes.length} offers)…`);
      const token = onService('token', async (ctx) => {
        const next = codes.pop();
        return next ? Boolean(await redeem(ctx, next.code, next.txCode)) : false;
      }, concurrency);
      await token.round(duration);
      results.token = token.summary();
    }
    if (memoryFlows > 0) {
      log(`memory: ${memoryFlows} flows…`);
      const stats = new StepStats();
      const ctx = context(stats);
      let remaining = memoryFlows;
      let done = 0;
      // RSS after every tenth of the flows: growth that levels off is the heap reaching its working
      // size; growth that goes on to the last tenth is a leak.
      const rssMiB: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (remaining-- > 0) {
            await walletFlow(ctx, counter++);
            if (++done % Math.ceil(memoryFlows / 10) === 0) rssMiB.push(round((await processRssBytes(service.pid)) / 2 ** 20, 1));
          }
        }),
      );
      results.memory = { flows: memoryFlows, seconds: round((performance.now() - started) / 1000, 1), errors: stats.errorCount, rssMiB };
    }
    const rssAfterRun = await processRssBytes(service.pid);
    report.rss = { afterWarmupMiB: round(rssAfterWarmup / 2 ** 20, 1), afterRunMiB: round(rssAfterRun / 2 ** 20, 1), ratio: round(rssAfterRun / rssAfterWarmup) };
    await issuer.client.close();
    report.stopExitCode = (await service.stop()).code;
    services.splice(services.indexOf(service), 1);
    if (seedOffers > 0) {
      const explainPool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
      report.explain = await explainHotQueries(explainPool).finally(() => explainPool.end());
    }
    report.results = results;
    const half = results.flowHalfConcurrency as { latencyMs: Record<string, { p50: number; p99: number }> } | undefined;
    if (half?.latencyMs.flow) report.halfConcurrencyP99OverP50 = round(half.latencyMs.flow.p99 / half.latencyMs.flow.p50);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    for (const service of services) await service.stop().catch(() => {});
    await dropDatabases(server.url, [benchDatabase, `${benchDatabase}_empty`, `${benchDatabase}_baseline`]).catch(() => {});
    await server.stop();
  }

  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    printTable(report);
  }
}

const formatCpu = (cpu: { service: number | null; postgres: number | null; loadGenerator: number | null }) =>
  `service ${cpu.service} + PostgreSQL ${cpu.postgres ?? '?'} + load generator ${cpu.loadGenerator}`;

function printTable(report: Record<string, unknown>) {
  const results = report.results as Record<string, { perSecond: number; concurrency: number; errors: Record<string, number>; latencyMs: Record<string, { p50: number; p95: number; p99: number }> }>;
  console.log(`\nvci-issuer benchmark — ${JSON.stringify(report.machine)}; PostgreSQL ${JSON.stringify(report.postgres)}`);
  console.log(`mode ${report.mode}, concurrency ${report.concurrency}, ${report.rounds} rounds of ${report.duration} s per phase, pool ${report.poolSize}, seeded offers ${report.seedOffers}\n`);
  console.log('phase                  rate/s   conc  step        p50 ms   p95 ms   p99 ms  errors');
  for (const [phase, result] of Object.entries(results)) {
    if (!result.latencyMs) {
      console.log(`${phase.padEnd(22)} ${JSON.stringify(result)}`);
      continue;
    }
    for (const [index, [step, latency]] of Object.entries(result.latencyMs).entries()) {
      const head = index === 0 ? `${phase.padEnd(22)} ${String(result.perSecond).padStart(7)} ${String(result.concurrency).padStart(6)}` : ' '.repeat(36);
      console.log(`${head}  ${step.padEnd(10)} ${String(latency.p50).padStart(8)} ${String(latency.p95).padStart(8)} ${String(latency.p99).padStart(8)}  ${result.errors[step] ?? 0}`);
    }
  }
  type Summary = { perSecond: number; concurrency: number; rounds: number[]; cpuMsPerOp: Parameters<typeof formatCpu>[0] };
  const ceilings = (report.ceilings ?? {}) as Record<string, Summary>;
  for (const [label, ceiling] of [['ceiling 1 (HTTP + one INSERT)', ceilings.httpOneInsert], ['ceiling 2 (SQL of a flow, pg)', ceilings.sqlOfFlow]] as const) {
    if (ceiling) console.log(`${label}: ${ceiling.perSecond}/s at concurrency ${ceiling.concurrency} (rounds ${ceiling.rounds.join(', ')})`);
  }
  if (report.ratios) console.log(`ratios (median round): ${JSON.stringify(report.ratios)}; every round: ${JSON.stringify(report.roundRatios)}`);
  console.log('\nCPU ms per operation:');
  for (const [name, summary] of [...Object.entries(results), ...Object.entries(ceilings)] as [string, Summary][]) {
    if (summary.cpuMsPerOp) console.log(`  ${name.padEnd(20)} ${formatCpu(summary.cpuMsPerOp)}`);
  }
  if (report.halfConcurrencyP99OverP50 !== undefined) console.log(`flow p99/p50 at half concurrency: ${report.halfConcurrencyP99OverP50}`);
  console.log(`service RSS: ${JSON.stringify(report.rss)}; exit code on SIGTERM: ${report.stopExitCode}`);
  if (report.explain) {
    console.log('\nhot queries (EXPLAIN):');
    for (const [name, { indexed, plan }] of Object.entries(report.explain as Record<string, { indexed: boolean; plan: string }>)) {
      console.log(`  ${indexed ? 'index' : 'SEQ SCAN'}  ${name}: ${plan.slice(0, 140)}`);
    }
  }
}

await main();
