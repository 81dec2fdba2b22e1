import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/issuer.js';
import { spawnIssuer, type IssuerProcess } from './support/processes.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import type { CreatedDatabase } from './support/databases.js';

// The issuer process is SIGKILLed while its deliveries are in flight (the receiver has them and has
// not answered): nothing records their outcome. Started again on the same database, it sends them
// again once their lease has run out, with the same webhook-id, and they are delivered.

// Long enough an attempt timeout (8 s; the lease is 18 s) that the kill surely comes first.
const ENV = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_SECONDS: '8' };
const started: IssuerProcess[] = [];
const receiver = new WebhookReceiver();
let database: CreatedDatabase | undefined;
afterAll(async () => {
  for (const issuer of started) await issuer.stop();
  await receiver.stop();
  await database?.drop();
});

describe('an issuer SIGKILLed mid-delivery', () => {
  it('redelivers what was in flight after it is restarted, with the same ids, and loses nothing', async () => {
    database = await createTestDatabase();
    await receiver.start();
    const first = await spawnIssuer({ databaseUrl: database.url, env: ENV });
    started.push(first);
    const created = await first.client.post('/v1/webhooks', { url: receiver.url, events: ['offer.created'] });
    expect(created.statusCode, created.body).toBe(201);
    receiver.secret = created.json().secret;
    const webhookId = created.json().id as string;
    const configuration = await first.client.createConfiguration();

    // The receiver takes the deliveries and never answers: they stay in flight until the kill.
    receiver.answer = () => 'hang';
    const offers = await Promise.all(Array.from({ length: 5 }, () => first.client.createOffer({ credentials: [configuration.id] })));
    await receiver.until(() => receiver.ids().size === 5, 15_000);
    const inFlight = receiver.ids();
    // Mid-delivery: claimed, sent, no outcome recorded (the attempt's timeout has not passed).
    const before = (await first.client.get(`/v1/webhooks/${webhookId}/deliveries`)).json().data;
    first.kill('SIGKILL');
    for (const delivery of before) expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastError: null, lastResponseStatus: null });
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    receiver.answer = () => 204;
    const killedAt = Date.now();
    const second = await spawnIssuer({ databaseUrl: database.url, port: first.port, env: ENV });
    started.push(second);
    await receiver.until(() => receiver.received.length >= 10, 45_000);
    const redeliveredAfterMs = Date.now() - killedAt;

    expect(receiver.ids()).toEqual(inFlight);
    expect(new Set(receiver.received.map((r) => r.payload.data.offerId))).toEqual(new Set(offers.map((offer) => offer.id)));
    for (const id of inFlight) {
      const copies = receiver.received.filter((r) => r.id === id);
      expect(copies).toHaveLength(2);
      expect(copies[1]!.body).toBe(copies[0]!.body);
      expect(copies.every((copy) => copy.verified)).toBe(true);
    }
    // The receiver has answered; the outcome is recorded just after.
    const deadline = Date.now() + 5000;
    let log = (await second.client.get(`/v1/webhooks/${webhookId}/deliveries`)).json().data;
    while (log.some((delivery: { status: string }) => delivery.status !== 'delivered') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      log = (await second.client.get(`/v1/webhooks/${webhookId}/deliveries`)).json().data;
    }
    expect(log).toHaveLength(5);
    for (const delivery of log) expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, lastResponseStatus: 204 });
    console.log(`redelivered ${redeliveredAfterMs} ms after the kill`);
  });
});
