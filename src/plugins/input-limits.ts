import fp from 'fastify-plugin';
import type { App } from '../context.js';
import { refuseOtherContentTypes, refuseUnstorableText, useDepthLimitedJsonParser } from '../http/input-limits.js';

/**
 * What every request body may be: JSON only (the wallet-facing scope adds form bodies for the token
 * endpoint), nested at most MAX_JSON_DEPTH deep, without `__proto__` keys, and without a character
 * PostgreSQL cannot store (U+0000, lone surrogates) in any parameter or value.
 */
export const inputLimits = fp(
  async (app: App) => {
    app.removeContentTypeParser('text/plain');
    useDepthLimitedJsonParser(app);
    refuseOtherContentTypes(app);
    app.addHook('preValidation', refuseUnstorableText);
  },
  { name: 'input-limits' },
);
