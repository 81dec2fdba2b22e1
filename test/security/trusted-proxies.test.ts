import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestIssuer } from '../support/issuer.js';

// Behind a load balancer, the client address comes from X-Forwarded-For; only the proxies the
// operator names are believed, so a client cannot pick its own rate-limit bucket by prepending
// addresses of its choosing.
describe('TRUST_PROXY', () => {
  const nonce = (issuer: Awaited<ReturnType<typeof startTestIssuer>>, forwardedFor: string) =>
    issuer.app.inject({ method: 'POST', url: '/v1/openid/nonce', headers: { 'x-forwarded-for': forwardedFor }, remoteAddress: '10.0.0.2' });

  it('a client prepending random addresses stays in its own rate-limit bucket', async () => {
    const issuer = await startTestIssuer({ env: { TRUST_PROXY: '10.0.0.2', RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await nonce(issuer, `${randomUUID().slice(0, 8)}, 198.51.100.7`)).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      // Another client behind the same proxy has a bucket of its own.
      expect((await nonce(issuer, '198.51.100.8')).statusCode).toBe(200);
    } finally {
      await issuer.close();
    }
  });

  it('a chain of named proxies (a CIDR range) is skipped; an untrusted peer’s X-Forwarded-For is ignored', async () => {
    const issuer = await startTestIssuer({ env: { TRUST_PROXY: '10.0.0.0/8', RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await nonce(issuer, `203.0.113.${i}, 198.51.100.7, 10.1.2.3`)).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
      // Not from a named proxy: the peer itself is the client, whatever it claims.
      const direct = (xff: string) =>
        issuer.app.inject({ method: 'POST', url: '/v1/openid/nonce', headers: { 'x-forwarded-for': xff }, remoteAddress: '192.0.2.50' });
      expect([(await direct('198.51.100.1')).statusCode, (await direct('198.51.100.2')).statusCode, (await direct('198.51.100.3')).statusCode]).toEqual([200, 200, 429]);
    } finally {
      await issuer.close();
    }
  });

  it('refuses "true", which would trust every hop, with a message that says what to set', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY must name the proxies to trust/);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    expect(loadConfig({}).trustProxy).toBe(false);
  });
});
