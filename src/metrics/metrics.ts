import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SweepResult } from '../retention/sweeper.js';

/**
 * Why a token request did or did not get an access token. The first five are the issue's; the rest
 * keep every refusal counted under a name of its own.
 */
export type RedemptionOutcome = 'success' | 'wrong_tx_code' | 'locked' | 'expired' | 'replay' | 'revoked' | 'unknown_code' | 'invalid_request';

export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'gave_up';

/** HTTP status → `2xx` … `5xx`: a bounded label. */
export function statusClass(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}

/** A route label is the route's pattern (`/v1/users/:userId`), never the URL asked for. */
export const UNMATCHED_ROUTE = 'unmatched';

// Seconds; the hot wallet endpoints answer in single milliseconds, signing a batch takes longer.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The service's Prometheus metrics, in a registry of this instance's own (not prom-client's global
 * one: the tests and the benchmark run several instances in one process). Labels carry route
 * patterns, status classes, outcomes, OAuth error codes, formats and configuration ids: never a user,
 * a code, a token or anything a request sent.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'vci_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    registers: [this.registry],
  });

  private readonly latency = new Histogram({
    name: 'vci_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly offers = new Counter({
    name: 'vci_offers_created_total',
    help: 'Credential offers created',
    registers: [this.registry],
  });

  private readonly redemptions = new Counter({
    name: 'vci_token_redemptions_total',
    help: 'Pre-authorized code redemptions at the token endpoint, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly credentials = new Counter({
    name: 'vci_credentials_issued_total',
    help: 'Credentials issued, by format and credential configuration id',
    labelNames: ['format', 'configuration_id'] as const,
    registers: [this.registry],
  });

  private readonly oauthErrors = new Counter({
    name: 'vci_oauth_errors_total',
    help: 'Error responses of the wallet-facing endpoints, by OAuth error code',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });

  private readonly sweeps = new Counter({
    name: 'vci_sweeps_total',
    help: 'Retention sweeps, by outcome (done; skipped: another instance was sweeping; failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly swept = new Counter({
    name: 'vci_swept_rows_total',
    help: 'Rows removed by the retention sweeper, by table',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  private readonly webhookDeliveries = new Counter({
    name: 'vci_webhook_deliveries_total',
    help: 'Webhook deliveries, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(pool: pg.Pool, options: { maxConnections: number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'vci_' });
    // Read from the pool when scraped: nothing to keep up to date per query.
    new Gauge({
      name: 'vci_db_pool_connections',
      help: 'Database pool connections by state: in_use, idle, and max (the pool size)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'max' }, options.maxConnections);
      },
    });
    new Gauge({
      name: 'vci_db_pool_waiting_requests',
      help: 'Queries waiting for a database connection',
      registers: [this.registry],
      collect() {
        this.set(pool.waitingCount);
      },
    });
  }

  /** One answered request; `route` is the route's pattern, or undefined when no route matched. */
  request(route: string | undefined, method: string, statusCode: number, elapsedMs: number): void {
    const pattern = route ?? UNMATCHED_ROUTE;
    this.requests.inc({ route: pattern, method, status_class: statusClass(statusCode) });
    this.latency.observe({ route: pattern, method }, elapsedMs / 1000);
  }

  offerCreated(): void {
    this.offers.inc();
  }

  tokenRedemption(outcome: RedemptionOutcome): void {
    this.redemptions.inc({ outcome });
  }

  credentialsIssued(format: string, configurationId: string, count: number): void {
    this.credentials.inc({ format, configuration_id: configurationId }, count);
  }

  oauthError(error: string): void {
    this.oauthErrors.inc({ error });
  }

  /** A sweep's result: undefined when another instance held the sweep lock. */
  sweep(result: SweepResult | undefined): void {
    this.sweeps.inc({ outcome: result ? 'done' : 'skipped' });
    for (const [table, rows] of Object.entries(result ?? {}) as [keyof SweepResult, number][]) if (rows) this.swept.inc({ table }, rows);
  }

  sweepFailed(): void {
    this.sweeps.inc({ outcome: 'failed' });
  }

  /** For the webhooks domain (being built on another branch): one delivery attempt's outcome. */
  webhookDelivery(outcome: WebhookDeliveryOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  /** The Prometheus text exposition format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
