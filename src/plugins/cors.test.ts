import { describe, expect, it } from 'vitest';
import { CrossOriginRoutes } from './cors.js';

describe('CrossOriginRoutes', () => {
  it('finds a path by exact route or by pattern, and closes every other path', () => {
    const routes = new CrossOriginRoutes();
    routes.add('/tenant/v1/oauth/token', 'wallet');
    routes.add('/v2/credentials/mobile/iacas/:id/certificate', 'public');
    routes.add('/.well-known/openid-credential-issuer/tenant', 'public');
    expect(routes.policyOf('/tenant/v1/oauth/token')).toBe('wallet');
    expect(routes.policyOf('/v1/oauth/token')).toBe('closed');
    expect(routes.policyOf('/v2/credentials/mobile/iacas/0190-abc/certificate')).toBe('public');
    expect(routes.policyOf('/v2/credentials/mobile/iacas/a/b/certificate')).toBe('closed');
    expect(routes.policyOf('/v2/credentials/mobile/iacas/x/certificateX')).toBe('closed');
    expect(routes.policyOf('/.well-known/openid-credential-issuerXtenant')).toBe('closed');
    expect(routes.policyOf('/v2/credentials/mobile/iacas')).toBe('closed');
  });
});
