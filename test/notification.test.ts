import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRequest, draft13CredentialRequest, type IssuerClient } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { holderKey, proofJwt } from './support/wallet.js';

// OID4VCI 1.0 §11: a credential response carries a notification_id; with the same access token the
// wallet then says what became of those credentials. The issuer records it on them and in its log.
let issuer: TestIssuer;
let second: TestIssuer;
let configurationId: string;
let vct: string;
beforeAll(async () => {
  issuer = await startTestIssuer();
  second = await startTestIssuer({ databaseUrl: issuer.databaseUrl });
  ({ id: configurationId, type: vct } = await issuer.client.createConfiguration());
});
afterAll(async () => {
  await second.close();
  await issuer.close();
});

const api = () => issuer.client;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A wallet session that received `batch` credentials: its token and the response's notification_id. */
async function issued(batch = 1, client: IssuerClient = api()) {
  const session = await client.startSession({ credentials: [configurationId] });
  const nonce = await client.nonce();
  const proofs = await Promise.all(Array.from({ length: batch }, async () => proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce })));
  const response = await client.requestCredential(session.token, credentialRequest(configurationId, proofs));
  expect(response.statusCode, response.body).toBe(200);
  return { token: session.token, notificationId: response.json().notification_id as string, offerId: session.offer.id };
}

const holderEvents = async (notificationId: string) =>
  (await issuer.database.pool.query('SELECT holder_event, holder_event_at FROM credential_issuances WHERE notification_id = $1', [notificationId])).rows;
const successes = (notificationId: string) => issuer.tables.eventRows(`type = 'OPENID_CREDENTIAL_NOTIFICATION_SUCCESS' AND data->>'notificationId' = $1`, [notificationId]);

describe('the notification endpoint', () => {
  it('is in the metadata, and every response dialect carries a notification_id', async () => {
    const metadata = await api().metadata('credentialIssuer');
    expect(metadata.notification_endpoint).toBe(`${issuer.config.publicUrl}/v1/openid/notification`);

    expect((await issued()).notificationId).toMatch(UUID);
    const session = await api().startSession({ credentials: [configurationId] });
    const draft13 = await api().requestCredential(session.token, draft13CredentialRequest(vct, await proofJwt(await holderKey(), { aud: issuer.config.publicUrl, nonce: session.cNonce })));
    expect(draft13.statusCode, draft13.body).toBe(200);
    expect(draft13.json().notification_id).toMatch(UUID);
  });

  it('records what became of every credential of the response: 204, their record updated, one event', async () => {
    const { token, notificationId, offerId } = await issued(3);
    const answer = await api().notify(token, { notification_id: notificationId, event: 'credential_accepted', event_description: 'Stored in the wallet' });
    expect(answer.statusCode, answer.body).toBe(204);
    expect(answer.body).toBe('');
    const rows = await holderEvents(notificationId);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toEqual({ holder_event: 'credential_accepted', holder_event_at: expect.any(Date) });
    expect(await successes(notificationId)).toEqual([
      expect.objectContaining({
        type: 'OPENID_CREDENTIAL_NOTIFICATION_SUCCESS',
        category: 'OpenId',
        data: expect.objectContaining({ notificationId, event: 'credential_accepted', eventDescription: 'Stored in the wallet', offerId, credentialIds: expect.any(Array) }),
      }),
    ]);
  });

  it('is idempotent: the same event again changes and logs nothing; a later one (deleted) replaces it', async () => {
    const { token, notificationId } = await issued();
    for (let i = 0; i < 3; i++) expect((await api().notify(token, { notification_id: notificationId, event: 'credential_accepted' })).statusCode).toBe(204);
    expect(await successes(notificationId)).toHaveLength(1);
    expect((await api().notify(token, { notification_id: notificationId, event: 'credential_deleted' })).statusCode).toBe(204);
    expect((await holderEvents(notificationId))[0].holder_event).toBe('credential_deleted');
    expect((await successes(notificationId)).map((event) => event.data.event)).toEqual(['credential_accepted', 'credential_deleted']);
  });

  it('takes the same notification sent at once through two instances as one: one event', async () => {
    const { token, notificationId } = await issued();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? second : issuer).client.notify(token, { notification_id: notificationId, event: 'credential_failure' })),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(10).fill(204));
    expect(await successes(notificationId)).toHaveLength(1);
  });

  it('knows only the notification ids of its own token: others are invalid_notification_id, and nothing changes', async () => {
    const mine = await issued();
    const theirs = await issued();
    for (const notificationId of [theirs.notificationId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid', 'x'.repeat(100)]) {
      const answer = await api().notify(mine.token, { notification_id: notificationId, event: 'credential_accepted' });
      expect(answer.statusCode, notificationId).toBe(400);
      expect(answer.json()).toEqual({ error: 'invalid_notification_id', error_description: expect.any(String) });
    }
    expect(await holderEvents(theirs.notificationId)).toEqual([{ holder_event: null, holder_event_at: null }]);
  });

  it('refuses a malformed notification with invalid_notification_request', async () => {
    const { token, notificationId } = await issued();
    const bodies: unknown[] = [
      { notification_id: notificationId },
      { event: 'credential_accepted' },
      { notification_id: notificationId, event: 'credential_revoked' },
      { notification_id: notificationId, event: 'credential_accepted', extra: true },
      { notification_id: notificationId, event: 'credential_accepted', event_description: 'says "hi"' },
      { notification_id: notificationId, event: 'credential_accepted', event_description: 'é' },
      { notification_id: 42, event: 'credential_accepted' },
      '{"notification_id":',
      [],
    ];
    for (const body of bodies) {
      const answer = await api().notify(token, body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
      expect(answer.json().error, JSON.stringify(body)).toBe('invalid_notification_request');
    }
    expect(await holderEvents(notificationId)).toEqual([{ holder_event: null, holder_event_at: null }]);
  });

  it('needs the access token: none is a 401 with the challenge, an unknown one invalid_token', async () => {
    const { notificationId } = await issued();
    const none = await api().notify(undefined, { notification_id: notificationId, event: 'credential_accepted' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    const unknown = await api().notify('not-a-token', { notification_id: notificationId, event: 'credential_accepted' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error).toBe('invalid_token');
  });
});
