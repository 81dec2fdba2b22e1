import { describe, expect, it } from 'vitest';
import { startTestIssuer } from '../support/issuer.js';

describe('query strings in the log', () => {
  it('a key pasted into a management URL never reaches the log; the list filters do', async () => {
    const issuer = await startTestIssuer();
    try {
      const api = issuer.client;
      const pasted = 'vci_pastedIntoTheUrlByMistake0123456789abcdef';
      expect((await api.get(`/v1/users?limit=2&key=${pasted}&${pasted}=1`)).statusCode).toBe(200);
      expect((await api.get(`/v1/users?limit=2&cursor=`)).statusCode).toBeLessThan(500);
      const log = issuer.logs.join('\n');
      expect(log).not.toContain(pasted);
      expect(log).toContain('"url":"/v1/users?limit=2"');
      expect(log).toContain('"unloggedQueryParameters":2');
    } finally {
      await issuer.close();
    }
  });
});
