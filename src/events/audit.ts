import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import type { Change, Invalidations } from '../db/invalidation.js';

/** An audited operation: it records `<type>_START`, then `<type>_SUCCESS` or `<type>_FAIL` (MATTR VII style). */
export interface EventKind {
  type: string;
  category: string;
}

/** Who asked and in which request: built once per request, recorded with every event it causes. */
export interface AuditContext {
  requestId: string;
  /** The API key's id, or null on wallet-facing routes. */
  actor: string | null;
}

/** What an event says of its change: ids and outcomes, never a secret or a claim value. */
export type EventData = Record<string, unknown>;

/** START and the outcome, through the database function record_events (migrations/), in `db`'s transaction. */
async function insertEvents(db: Db | Tx, kind: EventKind, audit: AuditContext, outcome: 'SUCCESS' | 'FAIL', data: EventData) {
  await sql`SELECT record_events(${kind.type}, ${kind.category}, ${audit.requestId}, ${audit.actor}, ${outcome}, ${JSON.stringify(data)}::jsonb)`.execute(db);
}

/**
 * Runs a change in one transaction that also records its START and SUCCESS events and announces what
 * it changed to every instance's caches, so that events and notifications exist exactly when the
 * change commits. `work` returns the result, the event data and the changes to announce, or null
 * data when it found nothing to change (another instance made the change first): no event then.
 * When it throws, everything rolls back and the error handler records START and FAIL on their own.
 */
export async function audited<T>(
  deps: { db: Db; invalidations: Invalidations },
  audit: AuditContext,
  kind: EventKind,
  work: (trx: Tx) => Promise<{ result: T; data: EventData | null; changed?: Change[] }>,
): Promise<T> {
  const { result, changed = [] } = await deps.db.transaction().execute(async (trx) => {
    const outcome = await work(trx);
    for (const change of outcome.changed ?? []) await deps.invalidations.announce(trx, change);
    if (outcome.data) await insertEvents(trx, kind, audit, 'SUCCESS', outcome.data);
    return outcome;
  });
  for (const change of changed) deps.invalidations.applyLocally(change);
  return result;
}

/** START and FAIL of an operation that failed before or without changing anything. Never throws. */
export async function recordFailure(db: Db, kind: EventKind, audit: AuditContext, data: EventData): Promise<void> {
  try {
    await insertEvents(db, kind, audit, 'FAIL', data);
  } catch {
    // The database may be why the request failed; the client still gets the original error.
  }
}
