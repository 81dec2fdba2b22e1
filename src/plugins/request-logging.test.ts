import { describe, expect, it } from 'vitest';
import { loggedUrl } from './request-logging.js';

describe('loggedUrl', () => {
  it('keeps the path and the list filters, and only counts other query parameters', () => {
    expect(loggedUrl('/v1/users')).toEqual({ url: '/v1/users' });
    expect(loggedUrl('/v1/users?limit=5&cursor=czEy')).toEqual({ url: '/v1/users?limit=5&cursor=czEy' });
    expect(loggedUrl('/v1/users?key=vci_secret&limit=5&vci_other=1')).toEqual({ url: '/v1/users?limit=5', unloggedQueryParameters: 2 });
    expect(loggedUrl('/v1/oauth/token?pre-authorized_code=abc')).toEqual({ url: '/v1/oauth/token', unloggedQueryParameters: 1 });
  });
});
