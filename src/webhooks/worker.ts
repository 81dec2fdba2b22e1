import { setMaxListeners } from 'node:events';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { SecretKeys } from '../crypto/secrets.js';
import type { Invalidations } from '../db/invalidation.js';
import { sendDelivery } from './sender.js';
import { signDelivery } from './signing.js';
import { claimDueDeliveries, recordAttempt, recordOfferExpiries, type AttemptOutcome, type ClaimedDelivery } from './store.js';

/** The topic the outbox trigger notifies on when it enqueued deliveries (migrations/012_webhooks.sql). */
export const WEBHOOK_DELIVERY_TOPIC = 'webhook-deliveries';

/** What became of one attempt, for logs and metrics (AppContext.webhookDeliveryListeners). */
export interface DeliveryOutcome {
  webhookId: string;
  deliveryId: string;
  event: string;
  attempt: number;
  /** delivered; retry: failed, tried again later; failed: failed for the last time; dropped: its webhook was deleted. */
  outcome: AttemptOutcome['kind'];
  responseStatus: number | null;
  durationMs: number;
}

/** vci_webhook_deliveries_total's outcome of an attempt: failed and retried, or failed for the last time. */
export const WEBHOOK_METRIC_OUTCOME = { delivered: 'delivered', retry: 'failed', failed: 'gave_up' } as const satisfies Record<Exclude<AttemptOutcome['kind'], 'dropped'>, string>;

/** Attempts in flight at once per instance. */
const CONCURRENCY = 16;
/** How often each instance looks for due deliveries when no notification woke it (retries fall due by the clock). */
const POLL_MS = 1000;
const EXPIRY_SCAN_MS = 5000;
const EXPIRY_SLICE_SECONDS = 60;
const MAX_DELAY_SECONDS = 3600;

/**
 * Exponential backoff with jitter: about 1 s after the first failure, doubling up to an hour, each
 * delay drawn from its upper half so that deliveries failing together do not return together.
 */
export function retryDelaySeconds(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_SECONDS, 2 ** (attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Whether a delivery is retried after this failure, or marked failed: retries stop once they would start past the retry period. */
export function nextStep(attempt: number, retryFrom: Date, retryForSeconds: number, now = new Date(), random = Math.random): { retryInSeconds: number } | 'give-up' {
  const delay = retryDelaySeconds(attempt, random);
  return now.getTime() + delay * 1000 > retryFrom.getTime() + retryForSeconds * 1000 ? 'give-up' : { retryInSeconds: delay };
}

export interface WebhookWorkerDeps {
  pool: pg.Pool;
  secrets: SecretKeys;
  config: Config;
  invalidations: Invalidations;
  onOutcome: (outcome: DeliveryOutcome) => void;
  log: (error: unknown, message: string) => void;
}

/**
 * The delivery loop of one instance: claims due deliveries (woken by the outbox trigger's
 * notification, or by the clock for retries), sends them, records each outcome; and scans for
 * offers that expired. Returns a function that stops it: attempts in flight are cut short and
 * recorded as failed attempts, so that they are retried (by another instance) without waiting for
 * the lease, and shutdown never waits for a slow receiver.
 */
export function startWebhookWorker(deps: WebhookWorkerDeps): () => Promise<void> {
  const { config } = deps;
  const timeoutMs = config.webhooks.timeoutSeconds * 1000;
  // Longer than an attempt can take, so that a live instance's claim never runs out under it.
  const leaseSeconds = config.webhooks.timeoutSeconds + 10;
  let stopped = false;
  const stopping = new AbortController();
  // Each attempt in flight listens to it.
  setMaxListeners(CONCURRENCY + 1, stopping.signal);
  let wake: (() => void) | undefined;
  let pendingWake = false;
  const poke = () => {
    pendingWake = true;
    wake?.();
  };
  deps.invalidations.subscribe(WEBHOOK_DELIVERY_TOPIC, poke, poke);

  const unsealed = (sealed: Buffer): string | undefined => {
    try {
      return deps.secrets.decrypt(sealed).toString('utf8');
    } catch {
      return undefined;
    }
  };

  async function deliver(claimed: ClaimedDelivery): Promise<void> {
    const started = Date.now();
    let outcome: AttemptOutcome;
    if (claimed.url === null || claimed.secret === null) {
      outcome = { kind: 'dropped' };
    } else {
      const body = JSON.stringify(claimed.payload);
      const secret = unsealed(claimed.secret);
      const result = secret === undefined
        ? { status: null, error: 'the signing secret cannot be decrypted: was SECRET changed?' }
        : await sendDelivery(
            { url: claimed.url, headers: { ...signDelivery(secret, claimed.id, body) }, body },
            { production: config.env === 'production', allowPrivateNetworks: config.webhooks.allowPrivateNetworks, timeoutMs },
            stopping.signal,
          );
      if (!result.error) outcome = { kind: 'delivered', responseStatus: result.status! };
      else {
        const step = nextStep(claimed.attempts, claimed.retry_from, config.webhooks.retryForSeconds);
        outcome =
          step === 'give-up'
            ? { kind: 'failed', responseStatus: result.status, error: result.error }
            : { kind: 'retry', responseStatus: result.status, error: result.error, delaySeconds: step.retryInSeconds };
      }
    }
    await recordAttempt(deps.pool, claimed, outcome);
    deps.onOutcome({
      webhookId: claimed.webhook_id,
      deliveryId: claimed.id,
      event: claimed.event_type,
      attempt: claimed.attempts,
      outcome: outcome.kind,
      responseStatus: outcome.kind === 'dropped' ? null : outcome.responseStatus,
      durationMs: Date.now() - started,
    });
  }

  // Attempts run side by side, up to CONCURRENCY: a slow receiver holds one slot, not the loop.
  const inFlight = new Set<Promise<void>>();
  let lastExpiryScan = 0;
  /** One pass: the expiry scan when due, then claims for the free slots; true when more may be due at once. */
  async function round(): Promise<boolean> {
    if (Date.now() - lastExpiryScan >= EXPIRY_SCAN_MS) {
      lastExpiryScan = Date.now();
      for (;;) {
        const scan = await recordOfferExpiries(deps.pool, EXPIRY_SLICE_SECONDS);
        if (!scan || scan.caughtUp || stopped) break;
      }
    }
    const free = CONCURRENCY - inFlight.size;
    if (stopped || free === 0) return false;
    const claimed = await claimDueDeliveries(deps.pool, free, leaseSeconds);
    for (const delivery of claimed) {
      const attempt: Promise<void> = deliver(delivery)
        .catch((error) => deps.log(error, 'webhook delivery could not be recorded'))
        .finally(() => {
          inFlight.delete(attempt);
          // A slot is free: look for more at once.
          poke();
        });
      inFlight.add(attempt);
    }
    return claimed.length === free;
  }

  const running = (async () => {
    while (!stopped) {
      pendingWake = false;
      let more = false;
      try {
        more = await round();
      } catch (error) {
        deps.log(error, 'webhook delivery round failed');
      }
      if (stopped || pendingWake || (more && inFlight.size < CONCURRENCY)) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    await Promise.all(inFlight);
  })();

  return async () => {
    stopped = true;
    stopping.abort();
    wake?.();
    await running;
  };
}
