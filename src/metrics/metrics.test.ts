import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Metrics, statusClass } from './metrics.js';

const idlePool = { totalCount: 3, idleCount: 1, waitingCount: 2 } as pg.Pool;

describe('statusClass', () => {
  it('groups statuses by hundreds; anything out of range is other', () => {
    expect([200, 204, 301, 400, 429, 500, 503].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
    expect(statusClass(99)).toBe('other');
    expect(statusClass(600)).toBe('other');
  });
});

describe('Metrics', () => {
  it('keeps a registry per instance: several issuers in one process do not share or clash', async () => {
    const one = new Metrics(idlePool, { maxConnections: 5 });
    const two = new Metrics(idlePool, { maxConnections: 5 });
    one.offerCreated();
    one.offerCreated();
    two.offerCreated();
    expect((await one.exposition()).body).toMatch(/^vci_offers_created_total 2$/m);
    expect((await two.exposition()).body).toMatch(/^vci_offers_created_total 1$/m);
  });

  it('reads the pool when scraped, labels unmatched requests as such, and counts swept rows by table', async () => {
    const metrics = new Metrics(idlePool, { maxConnections: 5 });
    metrics.request(undefined, 'GET', 404, 1.5);
    metrics.sweep({ offers: 2, accessTokens: 0, usedNonces: 1, usedDpopProofs: 0, events: 0, webhookDeliveries: 0 });
    metrics.sweep(undefined);
    metrics.webhookDelivery('delivered');
    const { body, contentType } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toMatch(/^vci_db_pool_connections\{state="in_use"\} 2$/m);
    expect(body).toMatch(/^vci_db_pool_waiting_requests 2$/m);
    expect(body).toMatch(/^vci_http_requests_total\{route="unmatched",method="GET",status_class="4xx"\} 1$/m);
    expect(body).toMatch(/^vci_swept_rows_total\{table="offers"\} 2$/m);
    expect(body).not.toMatch(/vci_swept_rows_total\{table="accessTokens"\}/);
    expect(body).toMatch(/^vci_sweeps_total\{outcome="skipped"\} 1$/m);
    expect(body).toMatch(/^vci_webhook_deliveries_total\{outcome="delivered"\} 1$/m);
  });
});
