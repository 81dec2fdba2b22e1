import type { FastifyRequest } from 'fastify';
import type { App } from '../context.js';
import { recordsFailureEvent, type Failure } from '../errors/classify.js';
import { recordFailure, type EventData, type EventKind } from '../events/audit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The operation a route carries out: its use case records START and SUCCESS, the error handler START and FAIL. */
    event?: EventKind;
  }
}

function failureData(failure: Failure): EventData {
  if (failure.kind === 'oauth') return { error: failure.error.error, errorDescription: failure.error.description };
  return { status: failure.status, error: failure.message };
}

/** START and FAIL for a failed request of an audited route, unless the failure does not call for them (see recordsFailureEvent). */
export async function recordFailedRequest(app: App, request: FastifyRequest, error: unknown, failure: Failure): Promise<void> {
  const kind = request.routeOptions.config.event;
  if (!kind || !request.audit || !recordsFailureEvent(error, failure)) return;
  await recordFailure(app.ctx.db, kind, request.audit, failureData(failure));
}
