import fp from 'fastify-plugin';
import type { App } from '../context.js';
import { classifyError } from '../errors/classify.js';
import { HttpError } from '../errors/http.js';
import { renderManagementError } from '../errors/render.js';
import { recordFailedRequest } from './audit-failures.js';

/** Errors of every route outside the wallet-facing scope, in the management shape `{ code, message, details }`; unknown routes too. */
export const managementErrors = fp(
  async (app: App) => {
    app.setErrorHandler(async (error, request, reply) => {
      const failure = classifyError(error);
      await recordFailedRequest(app, request, error, failure);
      return renderManagementError(failure, error, request, reply);
    });
    app.setNotFoundHandler((request, reply) => {
      const error = new HttpError(404, `Route ${request.method} ${request.url.split('?')[0]} not found`);
      return renderManagementError(classifyError(error), error, request, reply);
    });
  },
  { name: 'management-errors' },
);
