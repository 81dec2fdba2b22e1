import type { AppContext } from '../context.js';
import { resealEach, type SecretKeys } from '../crypto/secrets.js';
import type { Db } from '../db/database.js';
import { newRowId } from '../db/ids.js';
import { conflict, invalidInput, notFound } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import { urlProblem } from './destination.js';
import type { WebhookEvent } from './events.js';
import type { Webhook, WebhookBody, WebhookDelivery } from './schemas.js';
import { newSigningSecret } from './signing.js';
import { WEBHOOK_DELIVERY_TOPIC } from './worker.js';
import * as store from './store.js';
import type { DeliveryRow, WebhookRow } from './store.js';

export const WEBHOOK_MANAGEMENT_EVENTS = {
  create: { type: 'WEBHOOK_CREATE', category: 'Webhook' },
  update: { type: 'WEBHOOK_UPDATE', category: 'Webhook' },
  delete: { type: 'WEBHOOK_DELETE', category: 'Webhook' },
  redeliver: { type: 'WEBHOOK_DELIVERY_REDELIVER', category: 'Webhook' },
} as const satisfies Record<string, EventKind>;

const toWebhook = (row: WebhookRow): Webhook => ({
  id: row.id,
  url: row.url,
  events: row.events as WebhookEvent[],
  disabled: row.disabled,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  webhookId: row.webhook_id,
  eventId: row.event_id,
  event: row.event_type as WebhookEvent,
  status: row.status,
  attempts: row.attempts,
  createdAt: row.created_at.toISOString(),
  lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
  nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
  lastResponseStatus: row.last_response_status,
  lastError: row.last_error,
  deliveredAt: row.delivered_at?.toISOString() ?? null,
  payload: row.payload,
});

/** The body as stored: a URL webhooks may send to, each event once. */
function checked(ctx: Pick<AppContext, 'config'>, body: WebhookBody): WebhookBody {
  const problem = urlProblem(body.url, { production: ctx.config.env === 'production', allowPrivateNetworks: ctx.config.webhooks.allowPrivateNetworks });
  if (problem) throw invalidInput([{ field: 'url', message: problem }]);
  return { ...body, events: [...new Set(body.events)] };
}

// Event data names the webhook and its events, not its URL: a receiver's URL may carry a token.
const eventData = (webhook: WebhookRow) => ({ webhookId: webhook.id, events: webhook.events, disabled: webhook.disabled });

/** Creates a webhook with a new signing secret, returned this once (it is stored encrypted: the service signs with it). */
export async function createWebhook(ctx: AppContext, audit: AuditContext, body: WebhookBody): Promise<Webhook & { secret: string }> {
  const webhook = checked(ctx, body);
  const secret = newSigningSecret();
  return audited(ctx, audit, WEBHOOK_MANAGEMENT_EVENTS.create, async (trx) => {
    const row = await store.insertWebhook(trx, { id: newRowId(), ...webhook, secret: ctx.secrets.encrypt(Buffer.from(secret, 'utf8')) });
    return { result: { ...toWebhook(row), secret }, data: eventData(row) };
  });
}

export async function replaceWebhook(ctx: AppContext, audit: AuditContext, id: string, body: WebhookBody): Promise<Webhook> {
  const webhook = checked(ctx, body);
  return audited(ctx, audit, WEBHOOK_MANAGEMENT_EVENTS.update, async (trx) => {
    const row = await store.replaceWebhook(trx, id, webhook);
    if (!row) throw notFound('Webhook');
    return { result: toWebhook(row), data: eventData(row) };
  });
}

export async function deleteWebhook(ctx: AppContext, audit: AuditContext, id: string): Promise<void> {
  await audited(ctx, audit, WEBHOOK_MANAGEMENT_EVENTS.delete, async (trx) => {
    if (!(await store.deleteWebhook(trx, id))) throw notFound('Webhook');
    return { result: undefined, data: { webhookId: id } };
  });
}

export async function getWebhook(ctx: Pick<AppContext, 'db'>, id: string): Promise<Webhook> {
  const row = await store.findWebhook(ctx.db, id);
  if (!row) throw notFound('Webhook');
  return toWebhook(row);
}

export async function listWebhooks(ctx: Pick<AppContext, 'db'>, page: { limit: number; beforeSeq?: string }) {
  const rows = await store.listWebhooks(ctx.db, page);
  return rows.map((row) => ({ ...toWebhook(row), seq: row.seq }));
}

/** A webhook's delivery log, newest first. */
export async function listDeliveries(ctx: Pick<AppContext, 'db'>, page: { webhookId: string; limit: number; beforeSeq?: string }) {
  if (!(await store.findWebhook(ctx.db, page.webhookId))) throw notFound('Webhook');
  const rows = await store.listDeliveries(ctx.db, page);
  return rows.map((row) => ({ ...toDelivery(row), seq: row.seq }));
}

/** Sends a delivered or failed delivery again, with the same id, its retries starting over. */
export async function redeliver(ctx: AppContext, audit: AuditContext, id: string): Promise<WebhookDelivery> {
  return audited(ctx, audit, WEBHOOK_MANAGEMENT_EVENTS.redeliver, async (trx) => {
    const outcome = await store.requeueDelivery(trx, id);
    if (!outcome) throw notFound('Delivery');
    if (!outcome.requeued) throw conflict('This delivery is still pending: it is being retried already');
    // Wakes the delivery workers of every instance once this commits.
    await ctx.invalidations.announce(trx, { topic: WEBHOOK_DELIVERY_TOPIC, key: '*' });
    return { result: toDelivery(outcome.row), data: { webhookId: outcome.row.webhook_id, deliveryId: id } };
  });
}

/** After SECRET was rotated: signing secrets sealed under SECRET_PREVIOUS are sealed again under SECRET. Throws SecretUnknownError for one neither opens. */
export async function resealWebhookSecrets(deps: { db: Db; secrets: SecretKeys }): Promise<number> {
  return resealEach(deps.secrets, await store.listSealedWebhookSecrets(deps.db), (row) => row.secret, (row, sealed) => store.replaceSealedWebhookSecret(deps.db, row.id, row.secret, sealed));
}
