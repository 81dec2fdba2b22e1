import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import { classifyError } from '../http/errors.js';
import { OAuthError } from '../http/oauth-errors.js';

/** An operation that emits `<type>_START`, then `<type>_SUCCESS` or `<type>_FAIL` (MATTR VII style). */
export interface EventKind {
  type: string;
  category: string;
}

export interface EventContext {
  requestId: string;
  actor: string | null;
}

export type EventData = Record<string, unknown>;

/** START and the outcome, through the database function record_events (migrations/001). */
async function insertEvents(db: Db | Tx, kind: EventKind, context: EventContext, outcome: 'SUCCESS' | 'FAIL', data: EventData) {
  await sql`SELECT record_events(${kind.type}, ${kind.category}, ${context.requestId}, ${context.actor}, ${outcome}, ${JSON.stringify(data)}::jsonb)`.execute(db);
}

function failureData(error: unknown): EventData {
  if (error instanceof OAuthError) return { error: error.error, errorDescription: error.description };
  const { status, message } = classifyError(error);
  return { status, error: message };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The events this route emits; the error handlers record `_FAIL` for it. */
    event?: EventKind;
  }
}

export function eventContext(request: FastifyRequest): EventContext {
  return { requestId: request.id, actor: request.principal?.keyId ?? null };
}

export function eventKindOf(request: FastifyRequest): EventKind {
  const kind = request.routeOptions.config.event;
  if (!kind) throw new Error(`route ${request.routeOptions.url} has no config.event`);
  return kind;
}

/**
 * Runs `work` in one transaction and records START and SUCCESS in that same transaction, so the
 * events commit exactly when the change does: one commit per request. When anything fails the
 * transaction rolls back and the route's error handler records START and FAIL on their own.
 * `work` returns the result and the event data, which must hold no secret and no claim value.
 */
export async function evented<T>(
  db: Db,
  request: FastifyRequest,
  work: (trx: Tx) => Promise<{ result: T; data: EventData }>,
): Promise<T> {
  const kind = eventKindOf(request);
  return db.transaction().execute(async (trx) => {
    const { result, data } = await work(trx);
    await insertEvents(trx, kind, eventContext(request), 'SUCCESS', data);
    return result;
  });
}

/** START + FAIL for a request of an evented route that ended in an error. Never throws. */
export async function recordFailure(db: Db, request: FastifyRequest, error: unknown) {
  const kind = request.routeOptions.config.event;
  // Some failures change state themselves (a wrong transaction code counts an attempt) and write their FAIL event with it.
  if (!kind || (error as { eventRecorded?: boolean })?.eventRecorded) return;
  try {
    await insertEvents(db, kind, eventContext(request), 'FAIL', failureData(error));
  } catch {
    // The database may be why the request failed; the client still gets the original error.
  }
}
