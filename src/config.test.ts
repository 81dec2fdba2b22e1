import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENVIRONMENT_VARIABLES, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('refuses a retention shorter than the access token lifetime, which would sweep live tokens with their offers', () => {
    expect(() => loadConfig({ RETENTION_SECONDS: '60', ACCESS_TOKEN_EXPIRES_IN_SECONDS: '300' })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_SECONDS: '60', ACCESS_TOKEN_EXPIRES_IN_SECONDS: '300' })).toThrow(/RETENTION_SECONDS/);
    expect(loadConfig({ RETENTION_SECONDS: '300', ACCESS_TOKEN_EXPIRES_IN_SECONDS: '300' }).retention.retentionSeconds).toBe(300);
  });

  it('names the variable of a bad value in one line, never echoing a secret', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/^Invalid configuration: PORT .*"abc"/);
    const error = (() => {
      try {
        loadConfig({ SECRET: 'short-secret-value' });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/^Invalid configuration: SECRET/);
    expect(error?.message).not.toContain('short-secret-value');
  });

  it('reads CORS origins as *, none, or a list of origins as browsers send them', () => {
    expect(loadConfig({}).cors).toEqual({ publicOrigins: '*', walletOrigins: '*' });
    expect(loadConfig({ CORS_WALLET_ORIGINS: 'https://Wallet.example.com, http://localhost:8080', CORS_PUBLIC_ORIGINS: 'none' }).cors).toEqual({
      publicOrigins: false,
      walletOrigins: ['https://wallet.example.com', 'http://localhost:8080'],
    });
    for (const bad of ['https://wallet.example.com/app', 'wallet.example.com', 'ftp://wallet.example.com', 'https://wallet.example.com:443', '*,https://a.example']) {
      expect(() => loadConfig({ CORS_WALLET_ORIGINS: bad }), bad).toThrow(/^Invalid configuration: CORS_WALLET_ORIGINS must be \*, none, or/);
    }
  });

  it('refuses production without DATABASE_URL (the embedded database would keep data in the container), in one line', () => {
    const production = { NODE_ENV: 'production', SECRET: 's'.repeat(40), PUBLIC_URL: 'https://issuer.example.com' };
    expect(() => loadConfig(production)).toThrow(/^Invalid configuration: DATABASE_URL is required when NODE_ENV=production[^\n]*$/);
    expect(loadConfig({ ...production, DATABASE_URL: 'postgres://vci@db/vci' }).databaseUrl).toBe('postgres://vci@db/vci');
    expect(loadConfig({}).databaseUrl).toBeUndefined();
  });

  it('accepts SECRET_PREVIOUS only beside a SECRET that differs from it', () => {
    const [a, b] = ['a'.repeat(32), 'b'.repeat(32)];
    expect(loadConfig({ SECRET: b, SECRET_PREVIOUS: a })).toMatchObject({ secret: b, previousSecret: a });
    expect(loadConfig({ SECRET: b }).previousSecret).toBeUndefined();
    expect(() => loadConfig({ SECRET_PREVIOUS: a })).toThrow(/^Invalid configuration: SECRET_PREVIOUS needs a SECRET/);
    expect(() => loadConfig({ SECRET: a, SECRET_PREVIOUS: a })).toThrow(/^Invalid configuration: SECRET_PREVIOUS .*must differ/);
    expect(() => loadConfig({ SECRET: b, SECRET_PREVIOUS: 'short' })).toThrow(/^Invalid configuration: SECRET_PREVIOUS must be at least 32 characters$/);
  });

  it('webhooks: private networks refused by default, a bounded attempt timeout and retry period', () => {
    expect(loadConfig({}).webhooks).toEqual({ allowPrivateNetworks: false, timeoutSeconds: 10, retryForSeconds: 86_400 });
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }).webhooks.allowPrivateNetworks).toBe(true);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_SECONDS: '61' })).toThrow(/^Invalid configuration: WEBHOOK_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ WEBHOOK_RETRY_FOR_SECONDS: '0' })).toThrow(/^Invalid configuration: WEBHOOK_RETRY_FOR_SECONDS/);
  });

  it('serves the docs by default, but not in production unless DOCS says so', () => {
    expect(loadConfig({}).docs).toBe(true);
    expect(loadConfig({ DOCS: 'false' }).docs).toBe(false);
    const production = { NODE_ENV: 'production', SECRET: 's'.repeat(32), PUBLIC_URL: 'https://issuer.example.com', DATABASE_URL: 'postgres://vci@db/vci' };
    expect(loadConfig(production).docs).toBe(false);
    expect(loadConfig({ ...production, DOCS: 'true' }).docs).toBe(true);
    expect(() => loadConfig({ DOCS: 'maybe' })).toThrow(/^Invalid configuration: DOCS /);
  });

  it('every variable it reads is documented in README.md\'s configuration table, and nothing else is', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...ENVIRONMENT_VARIABLES].sort());
  });
});
