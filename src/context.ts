import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { Principal } from './auth/roles.js';
import { API_KEY_TOPIC } from './auth/store.js';
import type { Config } from './config.js';
import type { ConfigurationRecord } from './formats/format.js';
import { CONFIGURATION_TOPIC } from './configurations/store.js';
import type { SecretKeys } from './crypto/secrets.js';
import type { DatabaseHandle, Db } from './db/database.js';
import { InvalidatedCache, type Invalidations } from './db/invalidation.js';
import { DOCUMENT_SIGNER_TOPIC, type CurrentSigner } from './iacas/store.js';
import type { SigningKey } from './keys/signing-key.js';
import { ISSUER_KEY_TOPIC } from './keys/store.js';
import { Metrics } from './metrics/metrics.js';
import { createAccessTokenFinder, createIssuanceRecorder, type AccessTokenFinder, type IssuanceRecorder } from './credentials/store.js';
import { createOfferWriter, type OfferWriter } from './offers/store.js';
import { STATUS_LIST_TOPIC, createEntryAllocator, type EntryAllocator } from './status-lists/store.js';
import type { ServedStatusList } from './status-lists/use-cases.js';
import type { DeliveryOutcome } from './webhooks/worker.js';

/** What every use case may depend on: settings, the database, the server secret, and the copies kept in memory. */
export interface AppContext {
  config: Config;
  db: Db;
  pool: pg.Pool;
  secrets: SecretKeys;
  /** Cross-instance cache invalidation; a use case announces what it changed through it. */
  invalidations: Invalidations;
  /** Copies of rarely changing rows on the hot path, trusted only while invalidations are live. */
  caches: {
    apiKeys: InvalidatedCache<Principal>;
    configurations: InvalidatedCache<ConfigurationRecord>;
    /** The Credential Issuer metadata documents (by dialect), rebuilt only after a configuration changes. */
    issuerMetadata: InvalidatedCache<Record<string, unknown>>;
    /** The active signing key, decrypted and imported; rotation and upload announce a change. */
    signingKey: InvalidatedCache<SigningKey>;
    /** The SD-JWT VC issuer metadata (the published keys), rebuilt only after a key changes. */
    jwtVcIssuer: InvalidatedCache<Record<string, unknown>>;
    /** The mDoc document signer, decrypted and imported; any change of an IACA or a signer announces a change. */
    documentSigner: InvalidatedCache<CurrentSigner>;
    /** Signed Status List Tokens by list id; a status change announces its list. */
    statusListTokens: InvalidatedCache<ServedStatusList>;
  };
  /** Writes offers, sharing one statement between offers created at the same moment. */
  writeOffer: OfferWriter;
  /** Finds access tokens by hash, sharing one statement between look-ups made at the same moment. */
  findAccessToken: AccessTokenFinder;
  /** Records issued credentials, sharing one statement between issuances made at the same moment. */
  recordIssuance: IssuanceRecorder;
  /** Allocates status list entries, sharing one call between allocations made at the same moment. */
  allocateStatusEntries: EntryAllocator;
  /** Told the outcome of every webhook delivery attempt this instance makes (for metrics). */
  webhookDeliveryListeners: Set<(outcome: DeliveryOutcome) => void>;
  /** This instance's Prometheus metrics. */
  metrics: Metrics;
}

/**
 * The context `main`, the tests and the benchmark build the service from. The caches are used only
 * once `invalidations` has been started.
 */
export function createAppContext(parts: { config: Config; database: DatabaseHandle; secrets: SecretKeys; invalidations: Invalidations }): AppContext {
  const { invalidations } = parts;
  return {
    config: parts.config,
    db: parts.database.db,
    pool: parts.database.pool,
    secrets: parts.secrets,
    invalidations,
    caches: {
      apiKeys: new InvalidatedCache<Principal>(invalidations, API_KEY_TOPIC),
      configurations: new InvalidatedCache<ConfigurationRecord>(invalidations, CONFIGURATION_TOPIC),
      issuerMetadata: new InvalidatedCache<Record<string, unknown>>(invalidations, CONFIGURATION_TOPIC, { wholeTopic: true }),
      // A rotation on another instance reaches this one by notification; the TTL bounds how long a
      // copy is trusted even so.
      signingKey: new InvalidatedCache<SigningKey>(invalidations, ISSUER_KEY_TOPIC, { wholeTopic: true, ttlMs: 10_000 }),
      // A retired key leaves the document when its publication ends, with no change to announce: the
      // TTL bounds how long it stays.
      jwtVcIssuer: new InvalidatedCache<Record<string, unknown>>(invalidations, ISSUER_KEY_TOPIC, { wholeTopic: true, ttlMs: 60_000 }),
      documentSigner: new InvalidatedCache<CurrentSigner>(invalidations, DOCUMENT_SIGNER_TOPIC, { wholeTopic: true, ttlMs: 10_000 }),
      statusListTokens: new InvalidatedCache<ServedStatusList>(invalidations, STATUS_LIST_TOPIC, { ttlMs: 60_000, maxEntries: 1000 }),
    },
    writeOffer: createOfferWriter(parts.database.pool),
    findAccessToken: createAccessTokenFinder(parts.database.pool),
    recordIssuance: createIssuanceRecorder(parts.database.pool),
    allocateStatusEntries: createEntryAllocator(parts.database.pool, parts.config.statusLists.size),
    webhookDeliveryListeners: new Set(),
    metrics: new Metrics(parts.database.pool, { maxConnections: parts.config.databasePoolSize }),
  };
}

/** The Fastify instance with zod schemas as its type provider. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}
