import path from 'node:path';
import { z } from 'zod';
import { constantTimeEqual, readOrCreateSecretFile } from './crypto/secrets.js';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const THIRTY_DAYS = 30 * 24 * 3600;

/** Ranges TRUST_PROXY may name (proxy-addr's): 127.0.0.0/8 and ::1, 169.254.0.0/16 and fe80::/10, private ranges. */
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** Origins a browser may call from: `*`, `none`, or a comma-separated list of origins (scheme://host[:port]). */
const corsOrigins = z
  .string()
  .trim()
  .transform((value, ctx): CorsOrigins => {
    if (value === '*') return '*';
    if (value === 'none') return false;
    const origins = value.split(',').map((origin) => origin.trim());
    const serialised = origins.map((origin) => (URL.canParse(origin) && /^https?:/.test(origin) ? new URL(origin).origin : undefined));
    // An origin as browsers send it: no path, no default port, lower case.
    if (serialised.every((origin, i) => origin === origins[i]!.replace(/\/$/, '').toLowerCase())) return serialised as string[];
    ctx.addIssue({ code: 'custom', message: 'must be *, none, or a comma-separated list of origins such as https://wallet.example.com (no path)' });
    return z.NEVER;
  });

/** `*`: any origin; a list: those origins only; false: no cross-origin calls. */
export type CorsOrigins = '*' | string[] | false;

/** Every setting of the service, read from environment variables. The README's table mirrors this schema. */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((value) => !value.endsWith('/'), 'must not end with "/"')
    .refine((value) => !/[?#]/.test(value), 'must not have a query or fragment')
    .optional(),
  // Not z.url(): connection strings for Unix sockets have no host (postgres://user@/db?host=/run/postgresql).
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string').optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATA_DIR: z.string().min(1).default('./data'),
  MIGRATE_ON_START: booleanFlag.default(true),
  ADMIN_API_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SECRET_PREVIOUS: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OFFER_DEFAULT_EXPIRES_IN_SECONDS: seconds(300, THIRTY_DAYS),
  OFFER_MAX_EXPIRES_IN_SECONDS: seconds(600, THIRTY_DAYS),
  TX_CODE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  OFFER_LEGACY_CREDENTIALS: booleanFlag.default(false),
  WALLET_OFFER_URL: z.url({ protocol: /^https$/, error: 'must be an https URL (a wallet\'s universal link)' }).optional(),
  ACCESS_TOKEN_EXPIRES_IN_SECONDS: seconds(300, 3600),
  C_NONCE_EXPIRES_IN_SECONDS: seconds(300, 3600),
  PROOF_MAX_AGE_SECONDS: seconds(300, 3600),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  BATCH_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  SWEEP_INTERVAL_SECONDS: seconds(60, 86400),
  RETENTION_SECONDS: seconds(86400, 365 * 86400),
  EVENT_RETENTION_SECONDS: z.coerce.number().int().min(0).max(100 * 365 * 86400).default(365 * 86400),
  TRUST_PROXY: z
    .string()
    .trim()
    .transform((value, ctx): false | string[] => {
      if (/^(false|0|no)$/.test(value)) return false;
      const addresses = value.split(',').map((address) => address.trim());
      if (addresses.every((address) => PROXY_NAMES.includes(address) || /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(address))) return addresses;
      ctx.addIssue({
        code: 'custom',
        message: /^(true|yes|1)$/.test(value)
          ? 'must name the proxies to trust: their addresses or CIDR ranges (e.g. 10.0.0.0/8); "true" would let every client choose its own address'
          : `must be false, or a comma-separated list of proxy addresses, CIDR ranges or ${PROXY_NAMES.join(', ')}`,
      });
      return z.NEVER;
    })
    .default(false),
  SD_JWT_VC_FORMAT: z.enum(['dc+sd-jwt', 'vc+sd-jwt']).default('dc+sd-jwt'),
  ISSUER_NAME: z.string().min(1).max(200).default('vci-issuer'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  DPOP: z.enum(['optional', 'required']).default('optional'),
  STATUS_LIST_SIZE: z.coerce
    .number()
    .int()
    .min(64)
    .max(8_388_608)
    .refine((size) => size % 8 === 0, 'must be a multiple of 8')
    .default(131_072),
  STATUS_LIST_TTL_SECONDS: seconds(86_400, 30 * 86_400),
  STATUS_LIST_EXPIRES_IN_SECONDS: seconds(7 * 86_400, 365 * 86_400),
  CORS_PUBLIC_ORIGINS: corsOrigins.default('*'),
  CORS_WALLET_ORIGINS: corsOrigins.default('*'),
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(100),
  REQUEST_TIMEOUT_SECONDS: seconds(30, 600),
  MAX_CONNECTIONS: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFlag.default(false),
  WEBHOOK_TIMEOUT_SECONDS: seconds(10, 60),
  WEBHOOK_RETRY_FOR_SECONDS: seconds(86_400, 7 * 86_400),
  DOCS: booleanFlag.optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

export type Environment = z.infer<typeof envSchema>;

/** Every environment variable the service reads. */
export const ENVIRONMENT_VARIABLES = Object.keys(envSchema.shape) as (keyof Environment)[];

export interface Config {
  env: Environment['NODE_ENV'];
  port: number;
  host: string;
  /** The Credential Issuer Identifier; byte-identical everywhere it appears (OID4VCI 1.0 §12.2.1). */
  publicUrl: string;
  /** The issuer's display name in its metadata. */
  issuerName: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  migrateOnStart: boolean;
  adminApiKey: string | undefined;
  secret: string | undefined;
  /** While rotating SECRET: the secret before it, still accepted for what was stored under it. */
  previousSecret: string | undefined;
  logLevel: Environment['LOG_LEVEL'];
  /**
   * `legacyCredentials`: offers also list the ids as `credentials`, for wallets of draft 11 and before.
   * `walletUrl`: offer URIs start with this wallet's https link instead of openid-credential-offer://.
   */
  offers: { defaultExpiresInSeconds: number; maxExpiresInSeconds: number; txCodeMaxAttempts: number; legacyCredentials: boolean; walletUrl: string | undefined };
  /** `dpop`: whether the token endpoint requires a DPoP proof (HAIP), or binds tokens only when one is sent. */
  oauth: { accessTokenExpiresInSeconds: number; cNonceExpiresInSeconds: number; rateLimitPerMinute: number; dpop: 'optional' | 'required' };
  credentials: {
    proofMaxAgeSeconds: number;
    clockSkewSeconds: number;
    batchSize: number;
    /** The SD-JWT VC format identifier in metadata and the credentials' typ; vc+sd-jwt for wallets from before the rename. */
    sdJwtFormat: 'dc+sd-jwt' | 'vc+sd-jwt';
  };
  /** Expired offers and access tokens are kept this long (for status look-ups and audit), then swept; events for `eventRetentionSeconds` (0: for ever). */
  retention: { sweepIntervalSeconds: number; retentionSeconds: number; eventRetentionSeconds: number };
  /** Failed authentications (API keys, access tokens) per client address per minute before further attempts get 429 (0: no limit). */
  authFailuresPerMinute: number;
  /** How long a request may take to arrive, headers and body; how many connections may be open at once (0: no limit). */
  http: { requestTimeoutSeconds: number; maxConnections: number };
  /** Behind proxies: the proxy addresses whose X-Forwarded-For is believed (false: the peer is the client). */
  trustProxy: false | string[];
  /**
   * Token Status Lists: entries per list; how long a verifier may cache a list token (`ttl`), and how
   * long a token is valid (`exp`). A token is signed again after a status change, or once less than
   * `ttlSeconds` of it is left.
   */
  statusLists: { size: number; ttlSeconds: number; expiresInSeconds: number };
  /** The origins browser code may call from: public documents (metadata, offers by reference), and the token, nonce and credential endpoints. */
  cors: { publicOrigins: CorsOrigins; walletOrigins: CorsOrigins };
  /**
   * Webhook deliveries: whether URLs may reach loopback and private addresses (off: a management key
   * cannot make the service probe its own network), how long one attempt may take (connect and
   * response), and for how long a failing delivery is retried before it is marked failed.
   */
  webhooks: { allowPrivateNetworks: boolean; timeoutSeconds: number; retryForSeconds: number };
  /** Whether `/docs` and `/openapi.json` are served (DOCS; by default everywhere but in production). */
  docs: boolean;
  /** Where GET /metrics is served (a listener of its own, see metrics/server.ts), and the bearer token a scrape must carry. */
  metrics: { host: string; port: number; token: string | undefined };
  /** `auto`: human-readable on a terminal, JSON lines otherwise. */
  logFormat: Environment['LOG_FORMAT'];
}

export class ConfigError extends Error {}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** Parses the environment; throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const value = present[name];
    const shown = value === undefined || /KEY|SECRET|TOKEN|URL/.test(name) ? '' : ` (got "${value}")`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  if (e.OFFER_DEFAULT_EXPIRES_IN_SECONDS > e.OFFER_MAX_EXPIRES_IN_SECONDS) {
    throw new ConfigError('Invalid configuration: OFFER_DEFAULT_EXPIRES_IN_SECONDS must not exceed OFFER_MAX_EXPIRES_IN_SECONDS');
  }
  // An offer, and with it its tokens, is swept RETENTION_SECONDS after it expires; a token can outlive
  // its offer's expiry by its whole lifetime, so a shorter retention would sweep live tokens.
  if (e.RETENTION_SECONDS < e.ACCESS_TOKEN_EXPIRES_IN_SECONDS) {
    throw new ConfigError('Invalid configuration: RETENTION_SECONDS must be at least ACCESS_TOKEN_EXPIRES_IN_SECONDS (expired offers are swept with their tokens)');
  }
  if (e.STATUS_LIST_EXPIRES_IN_SECONDS < 2 * e.STATUS_LIST_TTL_SECONDS) {
    throw new ConfigError('Invalid configuration: STATUS_LIST_EXPIRES_IN_SECONDS must be at least twice STATUS_LIST_TTL_SECONDS (a token is re-signed once less than a ttl of it is left)');
  }
  // A list takes entries until three quarters of it are used; a batch must fit in that.
  if ((e.STATUS_LIST_SIZE * 3) / 4 < e.BATCH_SIZE) {
    throw new ConfigError('Invalid configuration: STATUS_LIST_SIZE must be at least 4/3 of BATCH_SIZE');
  }
  if (e.NODE_ENV === 'production' && !e.SECRET) {
    throw new ConfigError('Invalid configuration: SECRET is required when NODE_ENV=production');
  }
  if (e.SECRET_PREVIOUS && (!e.SECRET || constantTimeEqual(Buffer.from(e.SECRET_PREVIOUS), Buffer.from(e.SECRET)))) {
    throw new ConfigError('Invalid configuration: SECRET_PREVIOUS needs a SECRET of its own (the new secret) and must differ from it');
  }
  // OID4VCI 1.0 §12.2.1, §12.2.4: the Credential Issuer Identifier is an https URL; wallets refuse others.
  if (e.NODE_ENV === 'production' && !e.PUBLIC_URL?.startsWith('https://')) {
    throw new ConfigError('Invalid configuration: PUBLIC_URL must be set to the https:// URL wallets reach the issuer at when NODE_ENV=production');
  }
  // The embedded PostgreSQL would keep the data in DATA_DIR: in a container, a layer that goes with it.
  if (e.NODE_ENV === 'production' && !e.DATABASE_URL) {
    throw new ConfigError('Invalid configuration: DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development only)');
  }
  // The metrics name routes, error codes and load: fine for the host itself, not for anyone who can reach it.
  if (!isLoopback(e.METRICS_HOST) && !e.METRICS_TOKEN) {
    throw new ConfigError('Invalid configuration: METRICS_TOKEN is required when METRICS_HOST is not a loopback address (127.0.0.1, ::1, localhost)');
  }
  if (e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) throw new ConfigError('Invalid configuration: METRICS_PORT must differ from PORT');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    issuerName: e.ISSUER_NAME,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: path.resolve(e.DATA_DIR),
    migrateOnStart: e.MIGRATE_ON_START,
    adminApiKey: e.ADMIN_API_KEY,
    secret: e.SECRET,
    previousSecret: e.SECRET_PREVIOUS,
    logLevel: e.LOG_LEVEL,
    offers: {
      defaultExpiresInSeconds: e.OFFER_DEFAULT_EXPIRES_IN_SECONDS,
      maxExpiresInSeconds: e.OFFER_MAX_EXPIRES_IN_SECONDS,
      txCodeMaxAttempts: e.TX_CODE_MAX_ATTEMPTS,
      legacyCredentials: e.OFFER_LEGACY_CREDENTIALS,
      walletUrl: e.WALLET_OFFER_URL,
    },
    oauth: {
      accessTokenExpiresInSeconds: e.ACCESS_TOKEN_EXPIRES_IN_SECONDS,
      cNonceExpiresInSeconds: e.C_NONCE_EXPIRES_IN_SECONDS,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      dpop: e.DPOP,
    },
    credentials: {
      proofMaxAgeSeconds: e.PROOF_MAX_AGE_SECONDS,
      clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
      batchSize: e.BATCH_SIZE,
      sdJwtFormat: e.SD_JWT_VC_FORMAT,
    },
    retention: { sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS, retentionSeconds: e.RETENTION_SECONDS, eventRetentionSeconds: e.EVENT_RETENTION_SECONDS },
    trustProxy: e.TRUST_PROXY,
    cors: { publicOrigins: e.CORS_PUBLIC_ORIGINS, walletOrigins: e.CORS_WALLET_ORIGINS },
    statusLists: { size: e.STATUS_LIST_SIZE, ttlSeconds: e.STATUS_LIST_TTL_SECONDS, expiresInSeconds: e.STATUS_LIST_EXPIRES_IN_SECONDS },
    http: { requestTimeoutSeconds: e.REQUEST_TIMEOUT_SECONDS, maxConnections: e.MAX_CONNECTIONS },
    authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    webhooks: { allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS, timeoutSeconds: e.WEBHOOK_TIMEOUT_SECONDS, retryForSeconds: e.WEBHOOK_RETRY_FOR_SECONDS },
    docs: e.DOCS ?? e.NODE_ENV !== 'production',
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT, token: e.METRICS_TOKEN },
    logFormat: e.LOG_FORMAT,
  };
}

/**
 * The server secret keys every hash and encrypts private keys at rest. Outside production it is
 * generated on first start and kept in DATA_DIR so that restarts (and API keys) keep working.
 */
export async function resolveSecret(config: Config): Promise<string> {
  return config.secret ?? readOrCreateSecretFile(path.join(config.dataDir, 'secret'));
}
