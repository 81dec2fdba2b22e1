import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRequest } from './support/client.js';
import { createTestDatabase, startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt } from './support/wallet.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import { sweepOnce } from '../src/retention/sweeper.js';
import { WEBHOOK_EVENTS } from '../src/webhooks/events.js';

// Webhooks through the real HTTP layer, PostgreSQL and a real receiver on 127.0.0.1 (which needs
// WEBHOOK_ALLOW_PRIVATE_NETWORKS; the refusals are tested on instances without it).
const OPEN = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_SECONDS: '2' };
const WEBHOOKS = '/v1/webhooks';

let issuer: TestIssuer;
let configurationId: string;
const receivers: WebhookReceiver[] = [];
const others: TestIssuer[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer({ env: OPEN });
  configurationId = (await issuer.client.createConfiguration({ includeStatus: true })).id;
});
afterAll(async () => {
  for (const other of others) await other.close();
  await issuer?.close();
  for (const receiver of receivers) await receiver.stop();
});

async function receiver(): Promise<WebhookReceiver> {
  const made = new WebhookReceiver();
  receivers.push(made);
  await made.start();
  return made;
}

async function subscribe(on: TestIssuer, target: WebhookReceiver, events: readonly string[]) {
  const response = await on.client.post(WEBHOOKS, { url: target.url, events });
  expect(response.statusCode, response.body).toBe(201);
  target.secret = response.json().secret;
  return response.json() as { id: string; secret: string };
}

async function deliveries(on: TestIssuer, webhookId: string) {
  const response = await on.client.get(`${WEBHOOKS}/${webhookId}/deliveries?limit=1000`);
  expect(response.statusCode, response.body).toBe(200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return response.json().data as any[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('managing webhooks', () => {
  it('creates one with a secret shown once and kept encrypted; reads, replaces, disables and deletes it', async () => {
    const target = await receiver();
    const created = await subscribe(issuer, target, ['offer.created', 'offer.created', 'offer.redeemed']);
    expect(created).toEqual({
      id: expect.any(String),
      url: target.url,
      events: ['offer.created', 'offer.redeemed'],
      disabled: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      secret: expect.stringMatching(/^whsec_/),
    });
    const read = await issuer.client.get(`${WEBHOOKS}/${created.id}`);
    expect(read.json()).toEqual({ ...created, secret: undefined });
    expect(read.body).not.toContain(created.secret);
    expect(issuer.logs.join('')).not.toContain(created.secret);
    expect((await issuer.client.get(WEBHOOKS)).json().data).toContainEqual(read.json());
    const stored = await issuer.database.pool.query<{ secret: Buffer }>('SELECT secret FROM webhooks WHERE id = $1', [created.id]);
    expect(stored.rows[0]!.secret.toString('latin1')).not.toContain(created.secret.slice(6, 20));
    expect(issuer.secrets.decrypt(stored.rows[0]!.secret).toString()).toBe(created.secret);

    const replaced = await issuer.client.put(`${WEBHOOKS}/${created.id}`, { url: `${target.url}/v2`, events: ['offer.revoked'], disabled: true });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toMatchObject({ url: `${target.url}/v2`, events: ['offer.revoked'], disabled: true });
    // Disabled: nothing is enqueued for it.
    const offer = await issuer.client.createOffer({ credentials: [configurationId] });
    expect((await issuer.client.del(`/v1/openid/offers/pre-authorized/${offer.id}`)).statusCode).toBe(204);
    expect(await deliveries(issuer, created.id)).toEqual([]);

    expect((await issuer.client.del(`${WEBHOOKS}/${created.id}`)).statusCode).toBe(204);
    expect((await issuer.client.get(`${WEBHOOKS}/${created.id}`)).statusCode).toBe(404);
    expect((await issuer.client.del(`${WEBHOOKS}/${created.id}`)).statusCode).toBe(404);
    expect((await issuer.client.get(`${WEBHOOKS}/${created.id}/deliveries`)).statusCode).toBe(404);
    expect(await issuer.tables.eventRows(`type LIKE 'WEBHOOK_%_SUCCESS' AND data->>'webhookId' = $1`, [created.id])).toHaveLength(3);
  });

  it('refuses bad input with 400 naming the field: unknown events, no events, other schemes, credentials in the URL', async () => {
    for (const body of [
      { url: 'https://hooks.example.com/a', events: ['offer.created', 'offer.exploded'] },
      { url: 'https://hooks.example.com/a', events: [] },
      { url: 'ftp://hooks.example.com/a', events: ['offer.created'] },
      { url: 'https://user:password@hooks.example.com/a', events: ['offer.created'] },
      { url: 'not a url', events: ['offer.created'] },
    ]) {
      const response = await issuer.client.post(WEBHOOKS, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'BadRequest', details: [expect.objectContaining({ param: expect.stringMatching(/^(url|events)/) })] });
    }
    expect((await issuer.client.post('/v1/webhooks/deliveries/0196a1b2-0000-7000-8000-000000000000/redeliver')).statusCode).toBe(404);
  });
});

describe('events', () => {
  it('every event arrives, signed so that the Standard Webhooks library verifies it, carrying no secret', async () => {
    const target = await receiver();
    const { id: webhookId, secret } = await subscribe(issuer, target, WEBHOOK_EVENTS);
    const api = issuer.client;
    const secrets: string[] = [secret, issuer.adminKey];

    // offer.created, offer.redeemed, credential.issued, credential.notification_received, credential.status_changed
    const session = await api.startSession({ credentials: [configurationId] });
    secrets.push(session.offer.code, session.token);
    const proof = await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce: await api.nonce() });
    const issued = await api.requestCredential(session.token, credentialRequest(configurationId, [proof]));
    expect(issued.statusCode, issued.body).toBe(200);
    secrets.push(issued.json().credentials[0].credential);
    const notified = await api.notify(session.token, { notification_id: issued.json().notification_id, event: 'credential_accepted' });
    expect(notified.statusCode, notified.body).toBe(204);
    const revoked = await api.post(`/v1/openid/offers/pre-authorized/${session.offer.id}/credentials/status`, { status: 'invalid' });
    expect(revoked.statusCode, revoked.body).toBe(200);
    // offer.locked
    const guarded = await api.createOffer({ credentials: [configurationId], transactionCodeConfiguration: {} });
    secrets.push(guarded.code, String(guarded.transactionCode));
    for (let i = 0; i < issuer.config.offers.txCodeMaxAttempts; i++) await api.requestToken({ 'pre-authorized_code': guarded.code, tx_code: 'wrong' });
    // offer.revoked, offer.expired
    const deleted = await api.createOffer({ credentials: [configurationId] });
    expect((await api.del(`/v1/openid/offers/pre-authorized/${deleted.id}`)).statusCode).toBe(204);
    const expiring = await api.createOffer({ credentials: [configurationId], expiresIn: { seconds: 1 } });

    await target.until(() => WEBHOOK_EVENTS.every((event) => target.received.some((r) => r.payload.type === event)), 20_000);
    const byType = (type: string) => target.received.filter((r) => r.payload.type === type).map((r) => r.payload);
    expect(byType('offer.created').map((p) => p.data.offerId)).toEqual(expect.arrayContaining([session.offer.id, guarded.id, deleted.id, expiring.id]));
    expect(byType('offer.redeemed')).toEqual([expect.objectContaining({ data: expect.objectContaining({ offerId: session.offer.id }) })]);
    expect(byType('offer.locked')).toEqual([expect.objectContaining({ data: expect.objectContaining({ offerId: guarded.id, locked: true }) })]);
    expect(byType('offer.revoked')).toEqual([expect.objectContaining({ data: { offerId: deleted.id } })]);
    expect(byType('offer.expired')).toEqual([expect.objectContaining({ data: expect.objectContaining({ offerId: expiring.id }) })]);
    const credentialIds = (await issuer.database.pool.query('SELECT id FROM credential_issuances WHERE offer_id = $1', [session.offer.id])).rows.map((row) => row.id);
    expect(credentialIds).toHaveLength(1);
    expect(byType('credential.issued')).toEqual([expect.objectContaining({ data: expect.objectContaining({ credentialIds, offerId: session.offer.id }) })]);
    expect(byType('credential.notification_received')).toEqual([expect.objectContaining({ data: expect.objectContaining({ credentialIds, event: 'credential_accepted' }) })]);
    expect(byType('credential.status_changed')).toEqual([expect.objectContaining({ data: expect.objectContaining({ credentialIds, status: 'invalid' }) })]);

    const log = await deliveries(issuer, webhookId);
    for (const received of target.received) {
      expect(received.verified, received.body).toBe(true);
      expect(received.payload).toEqual({ type: expect.any(String), timestamp: expect.any(String), eventId: expect.any(String), data: expect.any(Object) });
      expect(log.map((delivery) => delivery.id)).toContain(received.id);
      for (const value of secrets) expect(received.body).not.toContain(value);
    }
    // The payload is the analytics event's data.
    const [event] = await issuer.tables.eventRows(`id = $1`, [byType('credential.issued')[0].eventId]);
    expect(event).toMatchObject({ type: 'OPENID_CREDENTIAL_ISSUE_SUCCESS', data: byType('credential.issued')[0].data });
  });

  it('a change that rolls back enqueues nothing; one that commits enqueues one delivery per subscribed, enabled webhook', async () => {
    const first = await receiver();
    const second = await receiver();
    const a = await subscribe(issuer, first, ['offer.created']);
    const b = await subscribe(issuer, second, ['offer.created']);
    const count = async (where: string) => Number((await issuer.database.pool.query(`SELECT count(*) FROM webhook_deliveries WHERE webhook_id IN ($1, $2) AND ${where}`, [a.id, b.id])).rows[0].count);
    const client = await issuer.database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT record_events('OPENID_PRE_AUTHORIZED_OFFER_CREATE', 'OpenId', 'rolled-back', NULL, 'SUCCESS', '{"offerId": "rolled-back"}')`);
      const inside = await client.query(`SELECT count(*) FROM webhook_deliveries WHERE webhook_id IN ($1, $2) AND payload->'data'->>'offerId' = 'rolled-back'`, [a.id, b.id]);
      expect(Number(inside.rows[0].count)).toBe(2);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await count(`payload->'data'->>'offerId' = 'rolled-back'`)).toBe(0);
    const offer = await issuer.client.createOffer({ credentials: [configurationId] });
    await first.until(() => first.received.some((r) => r.payload.data.offerId === offer.id));
    await second.until(() => second.received.some((r) => r.payload.data.offerId === offer.id));
    expect(await count(`payload->'data'->>'offerId' = '${offer.id}'`)).toBe(2);
  });
});

describe('delivery', () => {
  it('a receiver down for a while, then up: every event arrives, duplicates only with the same id', async () => {
    const target = await receiver();
    const { id: webhookId } = await subscribe(issuer, target, ['offer.created']);
    await target.stop();
    const offers = await Promise.all(Array.from({ length: 20 }, () => issuer.client.createOffer({ credentials: [configurationId] })));
    await sleep(3000);
    const waiting = await deliveries(issuer, webhookId);
    expect(waiting).toHaveLength(20);
    for (const delivery of waiting) {
      expect(delivery).toMatchObject({ status: 'pending', lastResponseStatus: null, lastError: expect.stringMatching(/ECONNREFUSED/) });
      expect(delivery.attempts).toBeGreaterThanOrEqual(2);
    }
    expect(target.received).toHaveLength(0);

    await target.start();
    await target.until(() => target.ids().size === 20);
    await sleep(1000);
    expect(new Set(target.received.map((r) => r.payload.data.offerId))).toEqual(new Set(offers.map((offer) => offer.id)));
    const first = new Map<string, string>();
    for (const r of target.received) {
      expect(r.verified).toBe(true);
      expect(first.get(r.id) ?? r.body, 'a duplicate is the same message').toBe(r.body);
      first.set(r.id, r.body);
    }
    const done = await deliveries(issuer, webhookId);
    expect(new Set(done.map((d) => d.id))).toEqual(target.ids());
    for (const delivery of done) expect(delivery).toMatchObject({ status: 'delivered', lastResponseStatus: 204, lastError: null, nextAttemptAt: null, deliveredAt: expect.any(String) });
    // The metrics count attempts by outcome.
    const { body: exposition } = await issuer.ctx.metrics.exposition();
    const counted = (outcome: string) => Number(new RegExp(`^vci_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(exposition)?.[1] ?? 0);
    expect(counted('delivered')).toBeGreaterThanOrEqual(20);
    expect(counted('failed')).toBeGreaterThanOrEqual(40);
  });

  it('a receiver that does not answer in time, then one that redirects, are failed attempts; the redirect is not followed', async () => {
    const target = await receiver();
    const elsewhere = await receiver();
    target.answer = () => 'hang';
    target.redirectTo = elsewhere.url;
    const { id: webhookId } = await subscribe(issuer, target, ['offer.revoked']);
    const offer = await issuer.client.createOffer({ credentials: [configurationId] });
    expect((await issuer.client.del(`/v1/openid/offers/pre-authorized/${offer.id}`)).statusCode).toBe(204);
    const logSays = async (expected: Record<string, unknown>) => {
      const deadline = Date.now() + 15_000;
      let last: Record<string, unknown> | undefined;
      while (Date.now() < deadline) {
        const [current] = await deliveries(issuer, webhookId);
        last = current;
        if (current && Object.entries(expected).every(([key, value]) => current[key] === value)) return current;
        await sleep(100);
      }
      throw new Error(`the delivery log never said ${JSON.stringify(expected)}: ${JSON.stringify(last)}`);
    };
    await logSays({ status: 'pending', lastError: 'no response within 2 s', lastResponseStatus: null });
    target.answer = () => 302;
    await logSays({ status: 'pending', lastError: 'redirect (302) not followed', lastResponseStatus: 302 });
    target.answer = () => 204;
    await logSays({ status: 'delivered', lastError: null, lastResponseStatus: 204 });
    expect(elsewhere.received).toHaveLength(0);
    expect(new Set(target.received.map((r) => r.id)).size).toBe(1);
  });

  it('two instances on one database deliver each event exactly once', async () => {
    const other = await startTestIssuer({ env: OPEN, databaseUrl: issuer.databaseUrl });
    others.push(other);
    const target = await receiver();
    const { id: webhookId } = await subscribe(issuer, target, ['offer.created']);
    const byInstance: [number, number] = [0, 0];
    issuer.ctx.webhookDeliveryListeners.add((o) => o.webhookId === webhookId && byInstance[0]++);
    other.ctx.webhookDeliveryListeners.add((o) => o.webhookId === webhookId && byInstance[1]++);
    const offers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? other : issuer).client.createOffer({ credentials: [configurationId] })));
    await target.until(() => target.ids().size === 60);
    await sleep(2000);
    expect(target.received).toHaveLength(60);
    expect(new Set(target.received.map((r) => r.payload.data.offerId))).toEqual(new Set(offers.map((offer) => offer.id)));
    expect(byInstance[0] + byInstance[1]).toBe(60);
    for (const delivery of await deliveries(other, webhookId)) expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    console.log(`deliveries per instance: ${byInstance.join(' / ')}`);
  });

  it('two instances scanning for expired offers record each expiry once', async () => {
    const other = others[0]!;
    const expiring = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : issuer).client.createOffer({ credentials: [configurationId], expiresIn: { seconds: 1 } })));
    const ids = expiring.map((offer) => offer.id);
    const recorded = async () => issuer.tables.eventRows(`type = 'OPENID_PRE_AUTHORIZED_OFFER_EXPIRE_SUCCESS' AND data->>'offerId' = ANY ($1)`, [ids]);
    const deadline = Date.now() + 20_000;
    while ((await recorded()).length < ids.length && Date.now() < deadline) await sleep(200);
    await sleep(6000);
    expect((await recorded()).map((event) => event.data.offerId).sort()).toEqual([...ids].sort());
  });

  it('the log records failures without the response body; a failed delivery is marked failed after the retry period, and redelivered on request with the same id', async () => {
    const short = await startTestIssuer({ env: { ...OPEN, WEBHOOK_RETRY_FOR_SECONDS: '1' } });
    others.push(short);
    const target = await receiver();
    target.answer = () => 500;
    const { id: webhookId } = await subscribe(short, target, ['offer.created']);
    await short.client.createOffer({ credentials: [(await short.client.createConfiguration()).id] });
    const failed = async () => (await deliveries(short, webhookId)).filter((d) => d.status === 'failed');
    const deadline = Date.now() + 15_000;
    while (!(await failed()).length && Date.now() < deadline) await sleep(200);
    const [delivery] = await failed();
    expect(delivery).toMatchObject({ status: 'failed', lastResponseStatus: 500, lastError: 'HTTP 500', nextAttemptAt: null, deliveredAt: null });
    expect(JSON.stringify(await short.database.pool.query('SELECT * FROM webhook_deliveries').then((r) => r.rows))).not.toContain('must not keep');
    const sent = target.received.length;
    expect(sent).toBe(delivery.attempts);
    expect(new Set(target.received.map((r) => r.id))).toEqual(new Set([delivery.id]));

    target.answer = () => 200;
    const again = await short.client.post(`/v1/webhooks/deliveries/${delivery.id}/redeliver`);
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json()).toMatchObject({ id: delivery.id, status: 'pending', attempts: 0 });
    await target.until(() => target.received.length > sent);
    expect(target.received.at(-1)).toMatchObject({ id: delivery.id, body: target.received[0]!.body, verified: true });
    const deadline2 = Date.now() + 5000;
    while ((await deliveries(short, webhookId))[0].status !== 'delivered' && Date.now() < deadline2) await sleep(100);
    expect((await deliveries(short, webhookId))[0]).toMatchObject({ id: delivery.id, status: 'delivered', attempts: 1, lastResponseStatus: 200 });

    // Redelivering what is still pending is refused: it is being retried already.
    await target.stop();
    expect((await short.client.post(`/v1/webhooks/deliveries/${delivery.id}/redeliver`)).statusCode).toBe(202);
    const twice = await short.client.post(`/v1/webhooks/deliveries/${delivery.id}/redeliver`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ code: 'Conflict' });
  });
});

describe('retention', () => {
  it('the sweeper removes delivered and failed deliveries older than EVENT_RETENTION_SECONDS, never pending ones', async () => {
    const pool = issuer.database.pool;
    const webhookId = '0196a1b2-0000-7000-8000-00000000aaaa';
    await pool.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, created_at, next_attempt_at)
       SELECT gen_random_uuid(), $1, gen_random_uuid(), 'offer.created', '{}', status, now() - make_interval(days => age), now() + interval '1 day'
       FROM (VALUES ('delivered', 400), ('failed', 400), ('pending', 400), ('delivered', 300)) AS v(status, age)`,
      [webhookId],
    );
    expect(await sweepOnce(pool, 86_400, 365 * 86_400)).toMatchObject({ webhookDeliveries: 2 });
    const { rows } = await pool.query('SELECT status FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY status', [webhookId]);
    expect(rows).toEqual([{ status: 'delivered' }, { status: 'pending' }]);
    await pool.query('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
  });
});

describe('shutdown', () => {
  it('an instance stopping cuts its attempts in flight short and records them for a retry, instead of waiting for the receiver', async () => {
    const database = await createTestDatabase();
    const stopping = await startTestIssuer({ env: { ...OPEN, WEBHOOK_TIMEOUT_SECONDS: '30' }, databaseUrl: database.url });
    const target = await receiver();
    target.answer = () => 'hang';
    const { id: webhookId } = await subscribe(stopping, target, ['offer.created']);
    await stopping.client.createOffer({ credentials: [(await stopping.client.createConfiguration()).id] });
    await target.until(() => target.received.length === 1);
    const started = Date.now();
    await stopping.close().catch(() => {});
    expect(Date.now() - started).toBeLessThan(5000);
    const after = await startTestIssuer({ env: OPEN, databaseUrl: database.url });
    others.push(after);
    expect((await deliveries(after, webhookId))[0]).toMatchObject({ attempts: 1, lastError: 'cut short: the instance was stopping' });
    target.answer = () => 204;
    await target.until(() => target.received.length === 2);
    expect(target.received[1]!.id).toBe(target.received[0]!.id);
    await after.close();
    others.splice(others.indexOf(after), 1);
    await database.drop();
  });
});

describe('destinations (WEBHOOK_ALLOW_PRIVATE_NETWORKS unset)', () => {
  it('refuses loopback, private, link-local and metadata addresses and localhost when registering', async () => {
    const closed = await startTestIssuer();
    others.push(closed);
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.0.0.5/hook', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/hook', 'http://[fd00:ec2::254]/', 'http://0x7f000001/']) {
      const response = await closed.client.post(WEBHOOKS, { url, events: ['offer.created'] });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().details).toEqual([expect.objectContaining({ param: 'url', msg: expect.stringMatching(/WEBHOOK_ALLOW_PRIVATE_NETWORKS/) })]);
    }
    expect(await closed.tables.count('webhooks')).toBe(0);
  });

  it('refuses to deliver to them too: a webhook registered while they were allowed gets nothing once they are not', async () => {
    const database = await createTestDatabase();
    const open = await startTestIssuer({ env: OPEN, databaseUrl: database.url });
    const target = await receiver();
    const { id: webhookId } = await subscribe(open, target, ['offer.revoked']);
    const configuration = (await open.client.createConfiguration()).id;
    await open.close();
    const closed = await startTestIssuer({ databaseUrl: open.databaseUrl });
    others.push(closed);
    const offer = await closed.client.createOffer({ credentials: [configuration] });
    expect((await closed.client.del(`/v1/openid/offers/pre-authorized/${offer.id}`)).statusCode).toBe(204);
    const deadline = Date.now() + 10_000;
    let log = await deliveries(closed, webhookId);
    while (!log[0]?.lastError && Date.now() < deadline) {
      await sleep(100);
      log = await deliveries(closed, webhookId);
    }
    expect(log).toEqual([expect.objectContaining({ status: 'pending', lastError: expect.stringMatching(/^refused: the URL must not point at a loopback/) })]);
    expect(target.received).toHaveLength(0);
    await closed.close();
    others.splice(others.indexOf(closed), 1);
    await database.drop();
  });
});
