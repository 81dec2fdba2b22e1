import type pg from 'pg';

const BATCH = 1000;
// One instance sweeps at a time; the others skip the round.
export const SWEEP_LOCK_ID = 7_411_902_363;

export interface SweepResult {
  offers: number;
  accessTokens: number;
  usedNonces: number;
  usedDpopProofs: number;
  events: number;
  webhookDeliveries: number;
}

/** Deletes in batches of 1000 so that no statement holds many row locks or runs long next to the hot path. */
async function deleteInBatches(client: pg.PoolClient, table: string, condition: string, values: unknown[]): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await client.query(
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE ${condition} LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))`,
      values,
    );
    total += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < BATCH) return total;
  }
}

/**
 * Removes what can no longer be used: used c_nonces past their expiry (a replay would fail the
 * MAC'd expiry anyway), access tokens and offers expired for longer than the retention period (an
 * offer's claims snapshot is needed while its access token lives), and events and finished webhook
 * deliveries older than their own retention period (0: kept for ever).
 */
export async function sweepOnce(pool: pg.Pool, retentionSeconds: number, eventRetentionSeconds = 0): Promise<SweepResult | undefined> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SWEEP_LOCK_ID]);
    if (!rows[0]?.locked) return undefined;
    try {
      const cutoff = [retentionSeconds];
      return {
        usedNonces: await deleteInBatches(client, 'used_nonces', 'expires_at < now()', []),
        usedDpopProofs: await deleteInBatches(client, 'used_dpop_proofs', 'expires_at < now()', []),
        accessTokens: await deleteInBatches(client, 'access_tokens', 'expires_at < now() - make_interval(secs => $1)', cutoff),
        offers: await deleteInBatches(client, 'offers', 'expires_at < now() - make_interval(secs => $1)', cutoff),
        events: eventRetentionSeconds > 0 ? await deleteInBatches(client, 'events', 'timestamp < now() - make_interval(secs => $1)', [eventRetentionSeconds]) : 0,
        // The delivery log goes with the events it was made from; what is still pending stays.
        webhookDeliveries:
          eventRetentionSeconds > 0
            ? await deleteInBatches(client, 'webhook_deliveries', "status <> 'pending' AND created_at < now() - make_interval(secs => $1)", [eventRetentionSeconds])
            : 0,
      };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

/** Runs sweepOnce every `intervalSeconds`; returns a function that stops it. Failures are logged, never thrown. */
export function startSweeper(
  pool: pg.Pool,
  options: {
    intervalSeconds: number;
    retentionSeconds: number;
    eventRetentionSeconds: number;
    /** What each sweep removed (undefined: another instance was sweeping). */
    swept?: (result: SweepResult | undefined) => void;
    log: (error: unknown) => void;
  },
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweepOnce(pool, options.retentionSeconds, options.eventRetentionSeconds).then(options.swept, options.log);
  }, options.intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
